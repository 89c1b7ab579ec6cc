/* placeholder */
typedef int placeholder_tlsa;
