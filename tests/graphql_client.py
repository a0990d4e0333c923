"""A tiny GraphQL-over-HTTP client for tests: the real app, the real wire format."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient, Response


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

    async def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        """`data` of a response that must have no errors."""
        body = await self.raw(query, **variables)
        if body.get("errors"):
            raise GraphQLError(body["errors"])
        return body["data"]

    async def error_codes(self, query: str, **variables: Any) -> list[str | None]:
        body = await self.raw(query, **variables)
        return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]
