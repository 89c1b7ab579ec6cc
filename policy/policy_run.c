/* placeholder */
typedef int placeholder_policy_run;
