"""Configuration: every knob is an environment variable (or a line in `.env`)."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.client_address import parse_networks

Environment = Literal["development", "test", "production"]


# Gateways this release can talk to (app/payments).
PAYMENT_GATEWAYS = ("DUMMY", "STRIPE", "PAYPAL")


class Settings(BaseSettings):
    """All settings of the service; see the configuration table in README.md."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=False)

    environment: Environment = "development"
    debug: bool | None = None
    data_dir: Path = Path(".commerce")

    database_url: str | None = None
    database_pool_size: int = Field(default=10, ge=1, le=200)
    database_statement_timeout_ms: int = Field(default=15_000, ge=0)
    migrate_on_start: bool | None = None
    redis_url: str | None = None
    pubsub_prefix: str = "commerce"

    jwt_secret: SecretStr | None = None
    jwt_issuer: str = "commerce"
    jwt_audience: str = "commerce-api"
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=86_400)
    refresh_token_ttl_seconds: int = Field(default=30 * 86_400, ge=300)

    default_currency: str = "USD"

    # Cart and checkout (app/services/cart, app/services/checkout).
    # Bounded so that the largest cart (lines x quantity x the largest price, 10^12 minor
    # units) still fits the 64-bit amount columns: 500 x 10,000 x 10^12 = 5 x 10^18.
    cart_max_line_quantity: int = Field(default=999, ge=1, le=10_000)
    cart_max_lines: int = Field(default=100, ge=1, le=500)
    cart_expiry_days: float = Field(default=30.0, gt=0)
    # Stock held for a cart once it has a delivery method; 0 turns reservations off.
    stock_reservation_minutes: float = Field(default=15.0, ge=0)
    # True: catalog and shipping prices include tax (gross, as in the EU); False: net.
    prices_include_tax: bool = False
    # Gateways checkoutComplete accepts; DUMMY takes the documented test tokens.
    payment_gateways: Annotated[list[str], NoDecode] = ["DUMMY"]
    # An order whose payment neither succeeded nor holds money this long after checkout is
    # cancelled: its stock and coupons go back (a late success is then refunded).
    payment_timeout_minutes: float = Field(default=60.0, gt=0)
    # A customer may ask to return delivered units this many days after the last delivery.
    return_window_days: int = Field(default=30, ge=0, le=3650)
    # Outbound calls to Stripe and PayPal.
    payment_timeout_seconds: float = Field(default=20.0, gt=0, le=120)
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_api_base: str = "https://api.stripe.com"
    # automatic: capture when the customer confirms; manual: authorise, staff capture later.
    stripe_capture: Literal["automatic", "manual"] = "automatic"
    paypal_client_id: str | None = None
    paypal_client_secret: SecretStr | None = None
    paypal_api_base: str = "https://api-m.paypal.com"  # sandbox: https://api-m.sandbox.paypal.com
    paypal_webhook_id: str | None = None
    # Where PayPal sends the buyer after approving (or cancelling) the payment.
    paypal_return_url: str = "http://127.0.0.1:8000/"
    paypal_cancel_url: str = "http://127.0.0.1:8000/"

    # Invoices and credit notes (app/services/payments/invoices.py).
    store_name: str = "Commerce Demo Store"
    store_address: str = "1 Market Street\nSan Francisco, CA 94105\nUS"  # lines split at \n
    store_tax_id: str = ""
    invoice_url_ttl_seconds: int = Field(default=900, ge=30, le=7 * 86_400)

    rate_limits_enabled: bool = True
    rate_limit_sign_in_ip: str = "30/minute"
    rate_limit_sign_in_account: str = "10/5minutes"
    rate_limit_register_ip: str = "10/hour"
    # orderPaymentConfirm asks the provider each time: bounded per client address.
    rate_limit_payment_confirm_ip: str = "30/minute"
    # orderLookup (number and email) would otherwise let a client guess at other orders.
    rate_limit_order_lookup_ip: str = "10/minute"
    # orderReturnRequest by a guest's order token, per client address.
    rate_limit_return_request_ip: str = "10/minute"
    # orderReorder makes a cart for a guest each time, per client address.
    rate_limit_reorder_ip: str = "20/minute"

    password_min_length: int = Field(default=8, ge=6, le=64)

    # Password reset, email verification and email change (app/services/accounts/flows.py).
    account_redirect_origins: Annotated[list[str], NoDecode] = []
    # Links may also point to http(s)://localhost:<port> and 127.0.0.1:<port>, a front end
    # on the developer's machine; default: only when ENVIRONMENT=development.
    account_redirect_localhost: bool | None = None
    password_reset_ttl_seconds: int = Field(default=3_600, ge=60)
    account_token_ttl_seconds: int = Field(default=3 * 86_400, ge=60)
    email_verification_required: bool = False
    rate_limit_reset_ip: str = "10/hour"
    rate_limit_reset_account: str = "5/hour"

    cors_origins: Annotated[list[str], NoDecode] = []
    graphiql: bool | None = None
    introspection: bool | None = None
    max_query_depth: int = Field(default=12, ge=1)
    max_query_tokens: int = Field(default=5_000, ge=100)
    max_query_aliases: int = Field(default=30, ge=1)
    max_query_fields: int = Field(default=1_000, ge=1)
    # Query cost (app/query_cost.py) and the per-client budget it is drawn from.
    max_query_cost: int = Field(default=10_000, ge=1)
    cost_budget_enabled: bool = True
    cost_budget_capacity: int = Field(default=20_000, ge=1)
    cost_budget_restore_rate: float = Field(default=1_000.0, gt=0)
    request_timeout_seconds: float = Field(default=30.0, gt=0)
    request_body_timeout_seconds: float = Field(default=10.0, gt=0)
    public_cache_seconds: float = Field(default=2.0, ge=0)
    public_cache_max_entries: int = Field(default=2_000, ge=0)
    public_cache_max_bytes: int = Field(default=32 * 1024 * 1024, ge=0)
    # Share the public response cache between processes through Redis (needs REDIS_URL).
    public_cache_shared: bool = False
    # Answer plain leaf fields without graphql-core's per-field machinery (app/executor.py).
    fast_execution: bool = True
    # Cache-Control max-age of public answers (app/http_caching.py); unset: PUBLIC_CACHE_SECONDS.
    http_cache_max_age_seconds: int | None = Field(default=None, ge=0)
    # Automatic persisted queries (app/persisted_queries.py): Redis when REDIS_URL is set,
    # else an LRU in process memory bounded by entries and bytes.
    apq_enabled: bool = True
    apq_ttl_seconds: int = Field(default=7 * 86_400, ge=1)
    apq_max_entries: int = Field(default=10_000, ge=1)
    apq_max_bytes: int = Field(default=16 * 1024 * 1024, ge=32 * 1024)
    max_request_bytes: int = Field(default=1_000_000, ge=1_000)
    ws_connection_init_timeout_seconds: float = Field(default=10.0, gt=0)
    ws_max_subscriptions: int = Field(default=20, ge=1)
    # An open socket re-reads its user this often (app/ws.py); token expiry is a timer of its own.
    ws_auth_recheck_seconds: float = Field(default=5.0, gt=0, le=3_600)
    # An order subscription reads the history this often even without a message, so a
    # change whose message was lost (Redis restarting) still arrives (app/services/orders/live.py).
    order_updates_poll_seconds: float = Field(default=10.0, gt=0, le=3_600)

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=1, ge=1)
    # Proxies (addresses or CIDR blocks) whose X-Forwarded-For / X-Forwarded-Proto are
    # believed; from anyone else those headers are ignored (app/client_address.py).
    trusted_proxies: Annotated[list[str], NoDecode] = []
    log_level: str = "INFO"
    log_json: bool | None = None
    # Observability (docs/operations.md). /metrics answers on the main port unless METRICS_PORT
    # is set: then only there, on METRICS_HOST (default HOST), so the public port hides it.
    metrics_enabled: bool = True
    metrics_port: int | None = Field(default=None, ge=1, le=65_535)
    metrics_host: str | None = None
    # Operation names become a label; past this many distinct ones they count as "other".
    metrics_max_operation_names: int = Field(default=200, ge=0, le=10_000)
    # Traces go over OTLP/HTTP to this collector (e.g. http://otel-collector:4318); unset: off.
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = "commerce"
    sentry_dsn: SecretStr | None = None  # unset: no error tracking
    sentry_environment: str | None = None  # default: ENVIRONMENT
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0, le=1)

    google_client_id: str | None = None
    google_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    google_issuers: list[str] = [  # JSON list in the environment
        "https://accounts.google.com",
        "accounts.google.com",
    ]
    facebook_app_id: str | None = None
    facebook_app_secret: SecretStr | None = None
    facebook_graph_url: str = "https://graph.facebook.com/v19.0"

    # Absolute links in messages (List-Unsubscribe); no trailing slash needed.
    public_base_url: str = "http://127.0.0.1:8000"

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_use_tls: bool = False  # implicit TLS (port 465); STARTTLS is then not used
    smtp_from: str = "Commerce <no-reply@localhost>"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    worker_in_process: bool | None = None  # default: on only with the embedded database
    worker_batch_size: int = Field(default=50, ge=1, le=1_000)
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    worker_lease_seconds: float = Field(default=60.0, gt=0)
    worker_backoff_base_seconds: float = Field(default=5.0, gt=0)
    worker_backoff_cap_seconds: float = Field(default=3_600.0, gt=0)
    sms_api_url: str = "https://api.twilio.com"
    sms_account_sid: str | None = None  # unset: SMS go to files
    sms_auth_token: SecretStr | None = None
    sms_from: str | None = None  # E.164 sender, or a Messaging Service SID (MG...)
    sms_timeout_seconds: float = Field(default=10.0, gt=0)
    vapid_private_key: SecretStr | None = None  # PEM or base64url raw; unset: push to files
    vapid_subject: str = "mailto:shop@example.com"
    push_ttl_seconds: int = Field(default=86_400, ge=0)
    push_timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator(
        "cors_origins",
        "account_redirect_origins",
        "trusted_proxies",
        "payment_gateways",
        mode="before",
    )
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("payment_gateways")
    @classmethod
    def _known_gateways(cls, value: list[str]) -> list[str]:
        names = [item.upper() for item in value]
        unknown = sorted(set(names) - set(PAYMENT_GATEWAYS))
        if unknown:
            raise ValueError(f"unknown payment gateways: {', '.join(unknown)}")
        return names

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        parse_networks(value)  # a typo fails at start, not by trusting nobody silently
        return value

    @model_validator(mode="after")
    def _gateways_have_credentials(self) -> Settings:
        # An enabled gateway without its keys fails at start, not at the first checkout.
        if "STRIPE" in self.payment_gateways and not (
            self.stripe_secret_key and self.stripe_webhook_secret
        ):
            raise ValueError("STRIPE needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET")
        if "PAYPAL" in self.payment_gateways and not (
            self.paypal_client_id and self.paypal_client_secret and self.paypal_webhook_id
        ):
            raise ValueError(
                "PAYPAL needs PAYPAL_CLIENT_ID, PAYPAL_CLIENT_SECRET and PAYPAL_WEBHOOK_ID"
            )
        return self

    @model_validator(mode="after")
    def _shared_cache_has_redis(self) -> Settings:
        if self.public_cache_shared and not self.redis_url:
            raise ValueError("PUBLIC_CACHE_SHARED needs REDIS_URL")
        return self

    @model_validator(mode="after")
    def _metrics_port_is_its_own(self) -> Settings:
        # Each process would bind it; one process per pod (or container) is the way to scale.
        if self.metrics_port is not None and self.workers > 1:
            raise ValueError("METRICS_PORT needs WORKERS=1: run more processes (pods) instead")
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise ValueError("METRICS_PORT must differ from PORT")
        return self

    @model_validator(mode="after")
    def _budget_fits_a_query(self) -> Settings:
        if self.cost_budget_enabled and self.cost_budget_capacity < self.max_query_cost:
            raise ValueError("COST_BUDGET_CAPACITY must be at least MAX_QUERY_COST")
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def http_max_age(self) -> int:
        if self.http_cache_max_age_seconds is None:
            return int(self.public_cache_seconds)
        return self.http_cache_max_age_seconds

    @property
    def debug_enabled(self) -> bool:
        return (not self.is_production) if self.debug is None else self.debug

    @property
    def graphiql_enabled(self) -> bool:
        return (not self.is_production) if self.graphiql is None else self.graphiql

    @property
    def introspection_enabled(self) -> bool:
        return (not self.is_production) if self.introspection is None else self.introspection

    @property
    def localhost_redirects_allowed(self) -> bool:
        if self.account_redirect_localhost is None:
            return self.environment == "development"
        return self.account_redirect_localhost

    @property
    def uses_embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def should_migrate_on_start(self) -> bool:
        if self.migrate_on_start is None:
            return self.uses_embedded_database
        return self.migrate_on_start

    @property
    def json_logs(self) -> bool:
        return self.is_production if self.log_json is None else self.log_json

    @cached_property
    def signing_key(self) -> str:
        """The JWT key: from JWT_SECRET, or (outside production) a key kept in data_dir."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        if self.is_production:
            raise RuntimeError("JWT_SECRET must be set when ENVIRONMENT=production")
        key_file = self.data_dir / "jwt_secret"
        if key_file.exists():
            return key_file.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        key_file.write_text(key)
        key_file.chmod(0o600)
        return key
