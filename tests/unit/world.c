/* placeholder */
typedef int placeholder_world;
