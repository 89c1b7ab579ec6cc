/* placeholder */
typedef int placeholder_dnsname;
