"""HTTP plumbing: app factory, request context, the permission guard, the error mapper, dependencies."""
