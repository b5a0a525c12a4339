"""The process boundary: Ray, the worker actor, and the server-side handles that drive it."""
