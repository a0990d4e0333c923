"""A tiny GraphQL-over-HTTP client for tests: the real app, the real wire format."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient, Response


def without_extensions(body: dict[str, Any]) -> dict[str, Any]:
    """The answer without `extensions` (the cost report, checked in tests/test_query_cost.py)."""
    return {key: value for key, value in body.items() if key != "extensions"}


class GraphQLError(AssertionError):
    """The response carried `errors` where the test expected none."""


class GraphQLClient:
    def __init__(self, http: AsyncClient, path: str = "/graphql") -> None:
        self.http = http
        self.path = path
        self.token: str | None = None

    def as_user(self, token: str | None) -> GraphQLClient:
        client = GraphQLClient(self.http, self.path)
        client.token = token
        return client

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        all_headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        all_headers.update(headers or {})
        return await self.http.post(
            self.path, json={"query": query, "variables": variables or {}}, headers=all_headers
        )

    async def raw(self, query: str, **variables: Any) -> dict[str, Any]:
        """The whole response body (data and errors)."""
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        return response.json()

    async def data_and_errors(self, query: str, **variables: Any) -> dict[str, Any]:
        """The response body without `extensions`."""
        return without_extensions(await self.raw(query, **variables))

    async def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        """`data` of a response that must have no errors."""
        body = await self.raw(query, **variables)
        if body.get("errors"):
            raise GraphQLError(body["errors"])
        return body["data"]

    async def error_codes(self, query: str, **variables: Any) -> list[str | None]:
        body = await self.raw(query, **variables)
        return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]
