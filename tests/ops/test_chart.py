"""The Helm chart: lint, offline render, Kubernetes schemas, and what each workload must carry."""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "chart"
KUBE_VERSION = "1.30.0"
RELEASE = "shop"
# Kinds whose schema is a CRD, not part of Kubernetes: rendered and checked by hand only.
CRD_KINDS = {"ServiceMonitor"}
SECRET_ENV = {
    "JWT_SECRET",
    "DATABASE_URL",
    "REDIS_URL",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "PAYPAL_CLIENT_ID",
    "PAYPAL_CLIENT_SECRET",
    "PAYPAL_WEBHOOK_ID",
    "SENTRY_DSN",
}
# The metric names the app exports (app/ observability change); the dashboard uses no others.
METRICS = {
    "commerce_http_requests_total",
    "commerce_http_request_duration_seconds_bucket",
    "commerce_http_request_duration_seconds_sum",
    "commerce_http_request_duration_seconds_count",
    "commerce_graphql_operations_total",
    "commerce_graphql_operation_duration_seconds_bucket",
    "commerce_graphql_operation_duration_seconds_sum",
    "commerce_graphql_operation_duration_seconds_count",
    "commerce_graphql_errors_total",
    "commerce_graphql_query_cost_bucket",
    "commerce_graphql_query_cost_sum",
    "commerce_graphql_query_cost_count",
    "commerce_db_pool_connections",
    "commerce_db_pool_size",
    "commerce_outbox_pending_messages",
    "commerce_outbox_oldest_pending_age_seconds",
    "commerce_webhook_events_total",
    "commerce_orders_placed_total",
    "commerce_order_revenue_minor_units_total",
    "commerce_response_cache_requests_total",
}


def production_values() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CHART / "values-production.yaml").read_text())
    return loaded


@cache
def _render(values_json: str) -> tuple[dict[str, Any], ...]:
    with helm.Chart.load(CHART) as chart:
        manifests = chart.render(
            json.loads(values_json), name=RELEASE, namespace=RELEASE, is_install=True
        )
    documents = []
    for path, text in manifests.items():
        if path.endswith("NOTES.txt"):
            continue
        documents.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return tuple(documents)


def render(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every rendered object (a deep copy: tests may change what they get)."""
    return copy.deepcopy(list(_render(json.dumps(values or {}, sort_keys=True))))


def only(documents: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        doc
        for doc in documents
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]
    assert len(found) == 1, [(d["kind"], d["metadata"]["name"]) for d in documents]
    return found[0]


def kinds(documents: list[dict[str, Any]]) -> list[str]:
    return sorted(doc["kind"] for doc in documents)


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (main,) = deployment["spec"]["template"]["spec"]["containers"]
    return main


@pytest.mark.parametrize("values", [None, "production"], ids=["defaults", "production"])
def test_helm_lint_is_clean_in_strict_mode(values: str | None) -> None:
    report = helm.lint(
        CHART,
        production_values() if values else None,
        strict=True,
        kube_version=f"v{KUBE_VERSION}",
    )

    assert report["errors"] == []
    # Severity 1 is INFO; the only one allowed is the missing icon (the project has none).
    assert [m for m in report["messages"] if m["severity"] > 1] == []
    assert {m["error"] for m in report["messages"]} <= {"icon is recommended"}


@pytest.mark.parametrize("values", [None, "production"], ids=["defaults", "production"])
def test_every_object_matches_the_kubernetes_schema(values: str | None) -> None:
    documents = render(production_values() if values else None)

    for doc in documents:
        if doc["kind"] in CRD_KINDS:
            assert doc["apiVersion"] == "monitoring.coreos.com/v1"
            continue
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    assert kinds(render()) == [
        "ConfigMap",
        "Deployment",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Job",
        "PodDisruptionBudget",
        "Service",
        "Service",
        "ServiceAccount",
    ]


def test_schema_validation_is_strict_about_unknown_fields() -> None:
    api = only(render(), "Deployment", "shop-commerce-api")
    container(api)["livenessprobe"] = container(api).pop("livenessProbe")  # a typo

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(api, KUBE_VERSION, strict=True)


def test_production_values_render_ingress_tls_monitor_and_dashboards() -> None:
    documents = render(production_values())

    ingress = only(documents, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [
        {"secretName": "commerce-tls", "hosts": ["api.shop.example.com"]}
    ]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "shop-commerce", "port": {"name": "http"}}
    monitor = only(documents, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    dashboard = only(documents, "ConfigMap", "shop-commerce-dashboards")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["commerce.json"])["uid"] == "commerce-overview"


def test_ingress_and_service_monitor_only_when_enabled() -> None:
    assert "Ingress" not in kinds(render())
    assert "ServiceMonitor" not in kinds(render())
    assert "Ingress" in kinds(render({"ingress": {"enabled": True}}))


def test_migration_job_is_a_pre_install_and_pre_upgrade_hook() -> None:
    job = only(render(), "Job")
    annotations = job["metadata"]["annotations"]

    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    migrate = job["spec"]["template"]["spec"]["containers"][0]
    assert migrate["args"] == ["migrate"]
    assert set(migrate["resources"]) == {"requests", "limits"}
    # The ConfigMap and a chart-made ServiceAccount do not exist yet during pre-install.
    assert "envFrom" not in migrate
    assert "serviceAccountName" not in job["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value") for e in migrate["env"]}
    assert env["ENVIRONMENT"] == "production" and env["MIGRATE_ON_START"] == "false"


@pytest.mark.parametrize("component", ["api", "worker"])
def test_pods_are_locked_down_with_a_tmp_emptydir(component: str) -> None:
    deployment = only(render(), "Deployment", f"shop-commerce-{component}")
    pod = deployment["spec"]["template"]["spec"]
    main = container(deployment)

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert main["securityContext"]["readOnlyRootFilesystem"] is True
    assert main["securityContext"]["allowPrivilegeEscalation"] is False
    assert main["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert {"name": "tmp", "mountPath": "/tmp"} in main["volumeMounts"]
    assert {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}} in pod["volumes"]
    resources = main["resources"]
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}
    assert main["args"] == ["serve" if component == "api" else "worker"]


def test_api_probes_liveness_healthz_and_readiness_readyz() -> None:
    api = container(only(render(), "Deployment", "shop-commerce-api"))

    assert api["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert api["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert {p["name"]: p["containerPort"] for p in api["ports"]} == {"http": 8000, "metrics": 9100}


def test_settings_come_from_the_configmap_and_secrets_from_the_existing_secret() -> None:
    documents = render(production_values())
    config = only(documents, "ConfigMap", "shop-commerce")["data"]
    api = container(only(documents, "Deployment", "shop-commerce-api"))

    assert api["envFrom"] == [{"configMapRef": {"name": "shop-commerce"}}]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in api["env"] if "valueFrom" in e}
    assert set(refs) == SECRET_ENV
    assert {ref["name"] for ref in refs.values()} == {"commerce-credentials"}
    assert {n for n, ref in refs.items() if not ref.get("optional")} == {
        "JWT_SECRET",
        "DATABASE_URL",
        "REDIS_URL",
    }
    assert config["TRUSTED_PROXIES"] == "10.244.0.0/16"
    assert config["CORS_ORIGINS"] == "https://shop.example.com,https://www.shop.example.com"
    assert config["METRICS_PORT"] == "9100"
    assert config["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability:4318"
    assert config["PAYMENT_GATEWAYS"] == "STRIPE,PAYPAL"
    assert not set(config) & SECRET_ENV


def test_configmap_names_are_settings_and_parse() -> None:
    from app.settings import Settings

    config = only(render(production_values()), "ConfigMap", "shop-commerce")["data"]
    known = {name.upper() for name in Settings.model_fields}

    assert set(config) <= known, set(config) - known
    settings = Settings(
        _env_file=None,
        **{k.lower(): v for k, v in config.items() if k != "PAYMENT_GATEWAYS"},
    )
    assert settings.trusted_proxies == ["10.244.0.0/16"]
    assert settings.is_production and settings.log_json and settings.workers == 1
    assert settings.should_migrate_on_start is False


def test_empty_optional_settings_are_left_out() -> None:
    config = only(render(), "ConfigMap", "shop-commerce")["data"]

    for name in ("TRUSTED_PROXIES", "CORS_ORIGINS", "OTEL_EXPORTER_OTLP_ENDPOINT", "SENTRY_DSN"):
        assert name not in config


def test_with_the_hpa_the_api_deployment_sets_no_replicas() -> None:
    documents = render(production_values())
    hpa = only(documents, "HorizontalPodAutoscaler")

    assert "replicas" not in only(documents, "Deployment", "shop-commerce-api")["spec"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "shop-commerce-api"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 12)
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    assert only(documents, "PodDisruptionBudget")["spec"]["minAvailable"] == 2
    assert only(documents, "Deployment", "shop-commerce-worker")["spec"]["replicas"] == 2

    fixed = render({"api": {"autoscaling": {"enabled": False}, "replicaCount": 4}})
    assert "HorizontalPodAutoscaler" not in kinds(fixed)
    assert only(fixed, "Deployment", "shop-commerce-api")["spec"]["replicas"] == 4


def test_the_api_delivers_the_outbox_only_without_the_worker_deployment() -> None:
    def in_process(values: dict[str, Any] | None) -> str:
        api = container(only(render(values), "Deployment", "shop-commerce-api"))
        return next(e["value"] for e in api["env"] if e["name"] == "WORKER_IN_PROCESS")

    assert in_process(None) == "false"
    assert in_process({"worker": {"enabled": False}}) == "true"
    assert "shop-commerce-worker" not in {
        d["metadata"]["name"] for d in render({"worker": {"enabled": False}})
    }


def test_a_config_change_changes_the_checksum_annotation() -> None:
    def checksum(values: dict[str, Any] | None) -> str:
        api = only(render(values), "Deployment", "shop-commerce-api")
        return str(api["spec"]["template"]["metadata"]["annotations"]["checksum/config"])

    assert checksum(None) == checksum(None)
    assert checksum(None) != checksum({"config": {"logLevel": "DEBUG"}})
    assert checksum(None) != checksum({"config": {"extra": {"SMTP_HOST": "smtp.example.com"}}})


def test_scrape_annotations_are_optional() -> None:
    def annotations(values: dict[str, Any] | None) -> dict[str, str]:
        api = only(render(values), "Deployment", "shop-commerce-api")
        found: dict[str, str] = api["spec"]["template"]["metadata"]["annotations"]
        return found

    assert "prometheus.io/scrape" not in annotations(None)
    assert {
        k: v
        for k, v in annotations({"metrics": {"podAnnotations": True}}).items()
        if k.startswith("prometheus.io/")
    } == {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "9100",
        "prometheus.io/path": "/metrics",
    }


def test_values_have_a_comment_above_every_key() -> None:
    lines = (CHART / "values.yaml").read_text().splitlines()
    keys = [n for n, line in enumerate(lines) if re.match(r"\s*(- )?[\w./-]+:", line)]

    assert len(keys) > 100
    for number in keys:
        assert lines[number - 1].lstrip().startswith("#"), f"values.yaml:{number + 1} undocumented"


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((CHART / "dashboards" / "commerce.json").read_text())
    return loaded


def test_dashboard_uses_only_exported_metric_names() -> None:
    board = dashboard()
    expressions = [t["expr"] for p in board["panels"] for t in p["targets"]]
    used = {name for e in expressions for name in re.findall(r"\bcommerce_\w+", e)}

    assert used <= METRICS, used - METRICS
    # Every metric family has a panel.
    families = {re.sub(r"_(bucket|sum|count)$", "", m) for m in METRICS}
    assert {re.sub(r"_(bucket|sum|count)$", "", m) for m in used} == families


def test_dashboard_is_templated_on_a_prometheus_datasource() -> None:
    board = dashboard()
    variables = {v["name"]: v for v in board["templating"]["list"]}

    assert board["schemaVersion"] >= 39
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}"
        assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])
