"""Everything HTTP: middlewares, problem+json, body parsing, the route table and the OpenAPI document."""
