"""Strawberry types, queries, mutations and subscriptions, one package per domain."""
