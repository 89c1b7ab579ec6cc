/* placeholder */
typedef int placeholder_policy_cache;
