/* placeholder */
typedef int placeholder_fake_dns;
