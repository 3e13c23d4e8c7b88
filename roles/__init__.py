"""External roles: casbin policies, the compiled permission index, field rules, data scopes and sharing."""
