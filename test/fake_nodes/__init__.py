"""Tiny nodes of the contract's shape (NODE_CLASS, main) for the bring-up tests."""
