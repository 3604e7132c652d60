"""The Arcaflow expression language: parse, evaluate, dependency paths, type inference."""
