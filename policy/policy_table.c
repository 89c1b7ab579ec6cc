/* placeholder */
typedef int placeholder_policy_table;
