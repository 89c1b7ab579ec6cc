/* placeholder */
typedef int placeholder_dns;
