/* placeholder */
typedef int placeholder_conf;
