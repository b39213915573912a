"""What the demo fleet's teams run: application domains, their parts, and which domains each
kind of cluster hosts. Pure data."""

from __future__ import annotations

from app.demo.apps import Part

# domain -> (owning team, parts; the first part always runs, the others by chance)
DOMAINS: dict[str, tuple[str, tuple[Part, ...]]] = {
    "checkout": (
        "checkout",
        (
            Part("checkout", "shop/checkout", hpa=True, pdb=True),
            Part("cart", "shop/cart", pdb=True),
            Part("payment", "shop/payment", secrets=("payment-psp", "payment-db")),
            Part("shipping", "shop/shipping", replicas=1),
            Part("currency", "shop/currency", secrets=()),
            Part(
                "redis-cart",
                "docker.io/bitnami/redis",
                version="7.4.1",
                kind="StatefulSet",
                replicas=1,
                port=6379,
                size_gi=8,
                secrets=("redis-cart-auth",),
            ),
        ),
    ),
    "storefront": (
        "web",
        (
            Part("frontend", "web/frontend", hpa=True, pdb=True, replicas=3),
            Part("recommendation", "web/recommendation", memory="512Mi"),
            Part("ad-service", "web/ad-service", replicas=1),
            Part("image-resizer", "web/image-resizer", cpu="250m", secrets=()),
        ),
    ),
    "search": (
        "search",
        (
            Part("search-api", "search/search-api", hpa=True, pdb=True),
            Part("indexer", "search/indexer", replicas=1, leader_election=True),
            Part("autocomplete", "search/autocomplete", secrets=()),
            Part(
                "opensearch",
                "docker.io/opensearchproject/opensearch",
                version="2.17.1",
                kind="StatefulSet",
                replicas=3,
                port=9200,
                size_gi=100,
                memory="2Gi",
            ),
        ),
    ),
    "identity": (
        "identity",
        (
            Part("auth-api", "identity/auth-api", pdb=True, secrets=("auth-jwt-keys", "auth-db")),
            Part("session-store", "identity/session-store", replicas=1),
            Part("user-profile", "identity/user-profile"),
            Part(
                "postgres",
                "docker.io/bitnami/postgresql",
                version="16.4.0",
                kind="StatefulSet",
                replicas=1,
                port=5432,
                size_gi=50,
                secrets=("postgres-auth",),
            ),
        ),
    ),
    "payments": (
        "payments",
        (
            Part("ledger", "payments/ledger", pdb=True, secrets=("ledger-db", "ledger-hsm")),
            Part("payouts", "payments/payouts", replicas=1),
            Part("fraud-scoring", "payments/fraud-scoring", memory="1Gi"),
            Part("invoice-renderer", "payments/invoice-renderer", secrets=()),
        ),
    ),
    "catalog": (
        "catalog",
        (
            Part("catalog-api", "catalog/catalog-api", hpa=True),
            Part("pricing", "catalog/pricing", files=("pricing-rules",)),
            Part("inventory", "catalog/inventory", leader_election=True),
        ),
    ),
    "notifications": (
        "growth",
        (
            Part("notifier", "growth/notifier", secrets=("notifier-smtp",)),
            Part("push-gateway", "growth/push-gateway", secrets=("push-fcm-key",)),
            Part("email-worker", "growth/email-worker", port=None, service=None),
        ),
    ),
    "data-pipeline": (
        "data-eng",
        (
            Part(
                "airflow-scheduler",
                "docker.io/apache/airflow",
                version="2.10.3",
                port=None,
                service=None,
                memory="1Gi",
                configs=("airflow-config",),
                secrets=("airflow-metadata-db",),
            ),
            Part(
                "airflow-webserver",
                "docker.io/apache/airflow",
                version="2.10.3",
                configs=("airflow-webserver-config",),
                secrets=("airflow-webserver-secret",),
            ),
            Part(
                "kafka",
                "docker.io/bitnami/kafka",
                version="3.8.1",
                kind="StatefulSet",
                replicas=3,
                port=9092,
                size_gi=200,
                memory="2Gi",
                secrets=("kafka-jaas",),
            ),
            Part("trino-coordinator", "docker.io/trinodb/trino", version="465", memory="4Gi"),
        ),
    ),
    "analytics": (
        "analytics",
        (
            Part("events-collector", "analytics/events-collector", hpa=True),
            Part("dashboard-api", "analytics/dashboard-api"),
            Part(
                "clickhouse",
                "docker.io/clickhouse/clickhouse-server",
                version="24.8",
                kind="StatefulSet",
                replicas=2,
                port=8123,
                size_gi=200,
                memory="4Gi",
            ),
        ),
    ),
    "ml-serving": (
        "ml-platform",
        (
            Part("model-gateway", "ml/model-gateway", hpa=True),
            Part(
                "feature-store", "ml/feature-store", memory="1Gi", secrets=("feature-store-redis",)
            ),
            Part("mlflow", "ghcr.io/mlflow/mlflow", version="2.18.0", secrets=("mlflow-s3",)),
            Part("embeddings", "ml/embeddings", memory="4Gi", cpu="1"),
        ),
    ),
    "ci": (
        "devex",
        (
            Part(
                "gitlab-runner",
                "docker.io/gitlab/gitlab-runner",
                version="v17.6.0",
                port=None,
                service=None,
                secrets=("runner-registration",),
                cluster_role=True,
            ),
            Part("buildkitd", "docker.io/moby/buildkit", version="v0.18.1", port=1234, secrets=()),
            Part(
                "artifact-cache",
                "devex/artifact-cache",
                kind="StatefulSet",
                replicas=1,
                size_gi=100,
                secrets=(),
            ),
        ),
    ),
}

# Domains each kind of cluster hosts, most important first.
ENVIRONMENT_DOMAINS: dict[str, tuple[str, ...]] = {
    "prod": (
        "checkout",
        "storefront",
        "identity",
        "payments",
        "catalog",
        "search",
        "notifications",
    ),
    "staging": (
        "checkout",
        "storefront",
        "identity",
        "search",
        "catalog",
        "notifications",
        "payments",
    ),
    "dev": ("storefront", "checkout", "catalog", "identity", "notifications", "search"),
    "data": ("data-pipeline", "analytics", "search", "catalog"),
    "ml": ("ml-serving", "analytics", "data-pipeline", "search"),
    "ci": ("ci", "storefront", "catalog"),
}

# How much of each kind of leftover an environment accumulates (1.0: the baseline).
WASTE_DENSITY = {"prod": 0.7, "staging": 1.1, "dev": 1.4, "data": 1.0, "ml": 1.1, "ci": 1.2}

# Team namespaces per scale unit (divided by the environment's waste density); tenants name
# the copies when a domain repeats at larger scales.
NAMESPACES_PER_SCALE = 4
TENANTS = (
    "eu",
    "us",
    "apac",
    "b2b",
    "partners",
    "labs",
    "internal",
    "mobile",
    "latam",
    "legacy",
    "beta",
    "emea",
    "nordics",
    "retail",
    "wholesale",
    "marketplace",
)

# Names leftovers take: the stale configuration and credentials people forget.
STALE_CONFIG_SUFFIXES = (
    "config-old",
    "config-v1",
    "feature-flags-2024",
    "config-backup",
    "settings-legacy",
    "env-migration",
    "config-canary",
    "tuning-test",
)
STALE_SECRET_SUFFIXES = (
    "db-old",
    "api-key-v1",
    "credentials-backup",
    "oauth-legacy",
    "tls-2024",
    "s3-access-old",
    "webhook-token",
)
RETIRED_SUFFIXES = ("v1", "legacy", "canary", "blue", "old", "shadow", "migration", "poc")

# Cluster-wide leftovers.
STALE_STORAGE_CLASSES = {
    "aws": (("io2-high-iops", "io2"), ("st1-throughput", "st1")),
    "gcp": (("regional-ssd", "pd-ssd"), ("balanced-retain", "pd-balanced")),
    "azure": (("premium-zrs", "Premium_ZRS"), ("standard-hdd-retain", "Standard_LRS")),
}
STALE_PRIORITY_CLASSES = ("batch-low", "legacy-critical", "preemptible-jobs", "spot-workloads")
STALE_CLUSTER_ROLES = (
    "legacy-metrics-reader",
    "jenkins-deployer",
    "old-fluentd",
    "spinnaker-reader",
    "kubecost-cost-analyzer-old",
    "tiller-admin",
)
# (CRD group, version, kinds, the Helm release that installed them) of tools uninstalled long
# ago whose CRDs stayed (Helm never deletes CRDs).
STALE_CRD_GROUPS = (
    (
        "networking.istio.io",
        "v1beta1",
        ("VirtualService", "DestinationRule", "Gateway", "ServiceEntry", "Sidecar"),
        "istio-base",
    ),
    ("security.istio.io", "v1beta1", ("AuthorizationPolicy", "PeerAuthentication"), "istio-base"),
    ("kafka.strimzi.io", "v1beta2", ("Kafka", "KafkaTopic", "KafkaUser"), "strimzi"),
    ("bitnami.com", "v1alpha1", ("SealedSecret",), "sealed-secrets"),
    ("velero.io", "v1", ("Backup", "Restore", "Schedule"), "velero"),
)
ABANDONED_PREFIXES = ("feature-", "poc-", "loadtest-", "demo-", "hackathon-", "tmp-")
ABANDONED_TOPICS = (
    "oauth-migration",
    "new-checkout",
    "vector-search",
    "graphql-gateway",
    "black-friday",
    "kafka-upgrade",
    "redis-cluster",
    "pricing-engine",
    "mobile-api",
    "ab-testing",
    "sso",
    "edge-cache",
)
