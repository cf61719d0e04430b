"""External data sources: data-warehouse imports, their schemas (tables) and sync jobs.

PostHog answers this viewset partly outside DRF's conventions: create returns only ``{"id"}``, its
failures are ``400 {"message": ...}``, reload and source_prefix answer without a body, jobs is a
bare array. Every source type's wizard fields and table list are derived from the data tables
below (how the source authenticates, what kind of product it is), not written out per type.
Jobs live in their own table; a source's status, latest error and last run are derived from its
schemas and jobs on every read, as PostHog's serializer does.
"""

from __future__ import annotations

import fnmatch
import json
import re
import zlib
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from .. import errors
from ..lifecycle import finished
from ..store import Record
from .base import Call, Reply, Resource, iso, quirk

JOBS = "external_data_jobs"
JOB_LIMIT = 50

# -- how each source authenticates: wizard fields (name, label, type, required, placeholder) --------
# "{slug}" is the source's snake_case name, "{label}" its display name, "{port}" its default port.
AUTH_FIELDS: dict[str, list[tuple[str, str, str, bool, str]]] = {
    "api_key": [("{slug}_api_key", "API key", "password", True, "")],
    "subdomain": [
        ("{slug}_subdomain", "Subdomain", "text", True, "mycompany"),
        ("{slug}_email_address", "Email address", "text", True, "you@company.com"),
        ("{slug}_api_key", "API key", "password", True, ""),
    ],
    "oauth": [("{slug}_integration_id", "{label} account", "oauth", True, "")],
    "database": [
        ("host", "Host", "text", True, "localhost"),
        ("port", "Port", "number", True, "{port}"),
        ("database", "Database", "text", True, "analytics"),
        ("user", "User", "text", True, "posthog"),
        ("password", "Password", "password", True, ""),
        ("schema", "Schema", "text", True, "public"),
    ],
    "service_account": [
        ("project_id", "Project ID", "text", True, "my-project"),
        ("dataset_id", "Dataset ID", "text", True, "analytics"),
        ("key_file", "Service account key (JSON)", "password", True, ""),
    ],
}
FIELD_OVERRIDES = {
    "Stripe": [
        ("stripe_account_id", "Account id", "text", False, "stripe_account_id"),
        ("stripe_secret_key", "API key", "password", True, "rk_live_..."),
    ],
    # CustomSource.get_source_config (sources/custom/source.py): the manifest, and the one secret
    # its client.auth.type uses.
    "Custom": [
        ("manifest_json", "Manifest (JSON)", "textarea", True, ""),
        ("auth_token", "Bearer token", "password", False, ""),
        ("auth_api_key", "API key", "password", False, ""),
        ("auth_password", "Password", "password", False, ""),
    ],
    # TrinoSource.get_source_config (sources/trino/source.py): the password option's fields shown
    # flat (auth_type, use_ssl and verify_ssl are selects with defaults).
    "Trino": [
        ("host", "Host", "text", True, "trino.example.com"),
        ("port", "Port", "number", True, "443"),
        ("catalog", "Catalog", "text", True, "hive"),
        ("schema", "Schema (optional)", "text", False, "Leave blank to include all schemas"),
        ("user", "Username", "text", True, "posthog"),
        ("password", "Password", "password", False, ""),
    ],
}
DATABASE_PORTS = {
    "Postgres": 5432,
    "Supabase": 5432,
    "MySQL": 3306,
    "MSSQL": 1433,
    "Redshift": 5439,
    "CockroachDB": 26257,
    "Oracle": 1521,
    "MongoDB": 27017,
    "Snowflake": 443,
    "Trino": 443,
}
SERVICE_ACCOUNT = {"BigQuery", "Firebase", "DynamoDB", "Elasticsearch", "Kafka", "AzureBlob", "SFTP"}
OAUTH = {
    "Hubspot",
    "Salesforce",
    "GoogleSheets",
    "GoogleAnalytics",
    "Slack",
    "Notion",
    "GoogleDrive",
    "OneDrive",
    "SharePoint",
    "Box",
    "QuickBooks",
    "Xero",
    "Zoom",
    "MicrosoftTeams",
    "Instagram",
    "YouTubeAnalytics",
    "FacebookPages",
    "Pardot",
    "Webflow",
}
SUBDOMAIN = {
    "Zendesk",
    "Freshdesk",
    "Jira",
    "Confluence",
    "Chargebee",
    "Okta",
    "ServiceNow",
    "Workday",
    "Marketo",
    "BambooHR",
    "Freshsales",
    "Auth0",
}

# -- what kind of product each source is: its tables ------------------------------------------------
DOMAINS: dict[str, set[str]] = {
    "billing": {
        "Chargebee",
        "Polar",
        "RevenueCat",
        "Recurly",
        "Braintree",
        "Recharge",
        "Zuora",
        "Paddle",
        "ChartMogul",
        "PayPal",
        "Square",
        "Plaid",
        "QuickBooks",
        "Xero",
        "NetSuite",
    },
    "crm": {
        "Salesforce",
        "Attio",
        "Pipedrive",
        "ZohoCRM",
        "Close",
        "Copper",
        "Freshsales",
        "SalesLoft",
        "Outreach",
        "Gong",
        "Pardot",
    },
    "support": {"Zendesk", "Freshdesk", "HelpScout", "Gorgias", "Front", "Intercom"},
    "marketing": {
        "CustomerIO",
        "Klaviyo",
        "Mailchimp",
        "Braze",
        "Mailjet",
        "SendGrid",
        "Iterable",
        "ActiveCampaign",
        "Marketo",
        "ConvertKit",
        "Drip",
        "CampaignMonitor",
        "MailerLite",
        "Omnisend",
        "Brevo",
        "Postmark",
    },
    "engineering": {
        "Github",
        "GitLab",
        "Datadog",
        "Sentry",
        "PagerDuty",
        "CircleCI",
        "LaunchDarkly",
        "TemporalIO",
        "DoIt",
    },
    "projects": {
        "Linear",
        "Jira",
        "Asana",
        "Trello",
        "Monday",
        "ClickUp",
        "Confluence",
        "Notion",
        "Productboard",
        "Smartsheet",
        "Wrike",
        "Shortcut",
    },
    "analytics": {
        "Amplitude",
        "Mixpanel",
        "GoogleAnalytics",
        "Pendo",
        "FullStory",
        "YouTubeAnalytics",
        "Vitally",
        "Adjust",
        "AppsFlyer",
    },
    "people": {"Ashby", "Greenhouse", "BambooHR", "Lever", "Workday", "Okta", "Auth0", "Clerk"},
    "commerce": {"Shopify", "WooCommerce", "BigCommerce"},
    "communication": {
        "Slack",
        "MicrosoftTeams",
        "Zoom",
        "Aircall",
        "RingCentral",
        "Twilio",
        "Calendly",
        "Eventbrite",
    },
    "files": {
        "GoogleSheets",
        "GoogleDrive",
        "OneDrive",
        "SharePoint",
        "Box",
        "AzureBlob",
        "SFTP",
        "Airtable",
        "Typeform",
        "SurveyMonkey",
        "Webflow",
    },
}
DOMAIN_TABLES = {
    "billing": ["customers", "invoices", "subscriptions", "charges", "refunds", "plans"],
    "crm": ["contacts", "companies", "deals", "activities", "owners"],
    "support": ["tickets", "users", "organizations", "ticket_comments", "satisfaction_ratings"],
    "marketing": ["lists", "campaigns", "contacts", "templates", "email_activity"],
    "engineering": ["repositories", "issues", "pull_requests", "commits", "releases"],
    "projects": ["issues", "projects", "users", "comments", "labels"],
    "analytics": ["events", "users", "cohorts", "annotations"],
    "people": ["candidates", "applications", "jobs", "interviews", "users"],
    "commerce": ["orders", "customers", "products", "refunds", "inventory_items"],
    "communication": ["channels", "messages", "users", "calls"],
    "files": ["files", "folders", "permissions"],
    "ads": ["campaigns", "ad_groups", "ads", "campaign_stats", "ad_stats"],
    "database": ["accounts", "users", "files", "folders", "shares", "invites", "subscriptions", "audit_log"],
    "generic": ["users", "accounts", "events"],
}
SOURCE_TABLES = {
    "Stripe": [
        "Account",
        "BalanceTransaction",
        "Charge",
        "Customer",
        "Dispute",
        "Invoice",
        "InvoiceItem",
        "Payout",
        "Price",
        "Product",
        "Refund",
        "Subscription",
        "CreditNote",
    ],
    "Hubspot": ["contacts", "companies", "deals", "tickets", "quotes", "emails", "meetings"],
    "Zendesk": [
        "brands",
        "organizations",
        "groups",
        "sla_policies",
        "users",
        "ticket_fields",
        "ticket_events",
        "tickets",
        "ticket_metric_events",
    ],
    "Salesforce": [
        "Account",
        "Contact",
        "Lead",
        "Opportunity",
        "User",
        "Event",
        "Task",
        "Campaign",
        "Pricebook2",
        "Product2",
    ],
    "Github": ["issues", "pull_requests", "commits", "stargazers", "releases"],
    "Ashby": ["applications", "candidates", "jobs", "job_postings", "interviews", "users"],
    "Vitally": [
        "Organizations",
        "Accounts",
        "Users",
        "Conversations",
        "Notes",
        "Projects",
        "Tasks",
        "NPS_Responses",
    ],
    "Chargebee": ["Customers", "Events", "Invoices", "Orders", "Subscriptions", "Transactions"],
    "Linear": ["issues", "projects", "teams", "users", "comments", "labels", "cycles"],
    "Intercom": ["contacts", "companies", "conversations", "admins", "tags"],
}
# Reference tables hold no timestamps to sync incrementally on.
STATIC_TABLES = {
    "Account",
    "Price",
    "Product",
    "Pricebook2",
    "Product2",
    "User",
    "brands",
    "groups",
    "sla_policies",
    "ticket_fields",
    "teams",
    "labels",
    "admins",
    "tags",
    "owners",
    "plans",
    "lists",
    "templates",
    "repositories",
    "folders",
    "permissions",
    "channels",
    "users",
}
INCREMENTAL_FIELDS = {
    "database": [("id", "integer", "id", "integer"), ("updated_at", "timestamp", "updated_at", "timestamp")],
    "Stripe": [("created_at", "datetime", "created", "integer")],
    "api": [
        ("created_at", "datetime", "created_at", "datetime"),
        ("updated_at", "datetime", "updated_at", "datetime"),
    ],
}
LABELS = {
    "MSSQL": "Microsoft SQL Server",
    "CustomerIO": "Customer.io",
    "TemporalIO": "Temporal.io",
    "DoIt": "DoiT",
    "TikTokAds": "TikTok Ads",
    "LinkedinAds": "LinkedIn Ads",
    "Hubspot": "HubSpot",
}
_SPLIT_PREFIXES = ("Google", "Microsoft", "Azure", "Apple", "Amazon", "Facebook", "YouTube", "Campaign")
# Established sources; the wizard marks the rest as beta.
ESTABLISHED = (
    set(SOURCE_TABLES)
    | set(DATABASE_PORTS)
    | {"BigQuery", "GoogleAds", "MetaAds", "Klaviyo", "Mailchimp", "GoogleSheets", "Shopify"}
)
FAILURES = {
    "database": "could not connect to server: Connection timed out. Is the server running on host and "
    "accepting TCP/IP connections?",
    "oauth": "Your {label} access token has expired. Please reconnect the source.",
    "default": "{label} API returned 429 Too Many Requests: rate limit exceeded.",
}
# PostHog's ExternalDataSourceSerializers.get_status precedence over the syncing schemas.
STATUS_PRECEDENCE = [
    ("Failed", "Failed"),
    ("BillingLimitReached", "Billing limits"),
    ("BillingLimitTooLow", "Billing limits too low"),
    ("Paused", "Paused"),
    ("Running", "Running"),
    ("Completed", "Completed"),
]
JOB_STATUS_LABELS = {"BillingLimitReached": "Billing limits", "BillingLimitTooLow": "Billing limit too low"}
# Types that map to a direct-SQL engine (DIRECT_ENGINE_BY_SOURCE_TYPE; BigQuery is behind a flag, off here).
DIRECT_CAPABLE = {"Postgres", "MySQL", "Snowflake", "Redshift", "ClickHouse", "MotherDuck", "Trino"}
DIRECT_UNSUPPORTED = (
    "Direct query mode is currently supported only for Postgres, MySQL, Snowflake, Redshift, ClickHouse, "
    "MotherDuck, and Trino sources."
)
# Source classes with supports_scheduled_sync = False: nothing to sync, a direct connection only.
DIRECT_ONLY = {"Trino"}
# Sources whose class is a WebhookSource in PostHog's source registry (get_supports_webhooks is
# isinstance(source, WebhookSource)): the registered classes seen with that base.
WEBHOOK_SOURCES = {
    "Attentive", "BrowseAI", "Calendly", "Chatwoot", "CustomerIO", "Featurebase", "Fintoc", "Fourthwall",
    "Gitea", "Github", "Instantly", "LemonSqueezy", "MailerLite", "Mailgun", "Paddle", "Paymongo",
    "Pipedrive", "RevenueCat", "Slack", "SparkPost", "Stripe", "UpPromote", "Webflow", "Whop",
    "WooCommerce", "WorkOS", "YouSign", "ZapSign",
}  # fmt: skip
# The prefix (a direct source's name) of the warehouse PostHog provisions itself.
RESERVED_PREFIX = "managed_warehouse"
RESERVED_PREFIX_MESSAGE = "This source name is reserved by PostHog."
# _create_external_data_source upgrades a created_via of mcp by the caller get_event_source names
# from the User-Agent: the wizard to wizard, PostHog Code to self_driving.
CREATED_VIA_BY_CALLER = {"wizard": "wizard", "posthog_code": "self_driving"}
# Sources with a managed (canonical) HogQL schema: no per-column selection.
MANAGED_SCHEMA_SOURCES = {"Stripe", "Paddle", "Zendesk"}
# The newer serializer fields as a new source (or a fixture that leaves them out) has them.
FIELD_DEFAULTS = {
    "created_via": None,
    "access_method": "warehouse",
    "direct_query_enabled": False,
    "auto_sync_new_schemas": False,
    "auto_sync_schema_patterns": None,
    "engine": None,
    "api_version": None,
}


# -- what the newer viewset mixins need (products/warehouse_sources/backend/presentation/views/
# external_data_source/) -----------------------------------------------------------------------
# mockhog reaches no database and no vendor API. Where PostHog would, its answer for a connection
# that cannot be made is given, with this as the connection error's text (PostHog's own text there
# is the driver's or the vendor client's exception, which an offline server cannot reproduce).
OFFLINE = "mockhog is an offline stand-in for PostHog and opens no network connections"
# change_data_capture.py _cdc_adapters: the source types with a CDC adapter (Supabase reuses Postgres's).
CDC_SOURCES = {"Postgres", "Supabase"}
CDC_MANAGEMENT_MODES = ("posthog", "self_managed")
# The team feature flags CDC and xmin syncs sit behind (is_cdc_enabled_for_team,
# is_xmin_enabled_for_team) are off for mockhog's one team, as for a team nobody enrolled.
CDC_FLAG_OFF = "CDC is not enabled for this team"
XMIN_FLAG_OFF = "xmin replication is not enabled for this team"
# The sync types a stored schema takes in mockhog's model (schemas/: SyncType).
STORED_SYNC_TYPES = ("full_refresh", "incremental", "append")
INCREMENTAL_STYLE = ("incremental", "append", "webhook")
# A webhook source's webhookFields (SourceConfig.webhookFields), as (name, required): Stripe's,
# GitHub's and MailerLite's are one required signing_secret, Pipedrive's an HTTP user and password;
# the other webhook sources are given the common signing_secret (not checked one by one).
WEBHOOK_FIELDS: dict[str, list[tuple[str, bool]]] = {
    "Pipedrive": [("http_auth_user", True), ("http_auth_password", True)],
}
DEFAULT_WEBHOOK_FIELDS = [("signing_secret", True)]
# Sources whose webhook_inputs_updated calls the vendor (RevenueCat re-registers its integration,
# Attentive enables the webhook); the base class's default succeeds without a call.
VENDOR_INPUT_UPDATE = {"RevenueCat", "Attentive"}
# HogFunction.DEFAULT_STATE: the status of a function the CDP service reports nothing for.
HOG_FUNCTION_DEFAULT_STATE = {"state": 0, "tokens": 0, "rating": 0}
# The webhook message each vendor client gives when its call fails; Stripe's is
# sources/stripe/stripe.py (create_webhook, delete_webhook, get_external_webhook_info), the others
# share it here (their own wording is per vendor and not reproduced).
WEBHOOK_CREATE_FAILED = "Failed to create webhook automatically: {error}"
WEBHOOK_DELETE_FAILED = "Failed to delete webhook: {error}"
WEBHOOK_STATUS_FAILED = "Failed to check webhook status: {error}"
PREVIEW_DEFAULT_ROWS = 10


def _message(text: str) -> errors.BareError:
    return errors.BareError(400, {"message": text})


def slug_of(source_type: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", source_type).lower()


def label_of(source_type: str) -> str:
    if source_type in LABELS:
        return LABELS[source_type]
    if source_type.endswith("Ads"):
        return f"{label_of(source_type[:-3])} Ads"
    for prefix in _SPLIT_PREFIXES:
        if source_type.startswith(prefix) and len(source_type) > len(prefix):
            return f"{prefix} {source_type[len(prefix) :]}"
    return source_type


def auth_kind(source_type: str) -> str:
    if source_type in DATABASE_PORTS:
        return "database"
    if source_type in SERVICE_ACCOUNT:
        return "service_account"
    if source_type in OAUTH or source_type.endswith("Ads"):
        return "oauth"
    if source_type in SUBDOMAIN:
        return "subdomain"
    return "api_key"


def domain_of(source_type: str) -> str:
    if source_type in DATABASE_PORTS or source_type in SERVICE_ACCOUNT - DOMAINS["files"]:
        return "database"
    if source_type.endswith("Ads"):
        return "ads"
    return next((name for name, members in DOMAINS.items() if source_type in members), "generic")


def wizard_fields(source_type: str) -> list[dict[str, Any]]:
    """The credential fields the wizard asks for, in the shape PostHog's SourceFieldConfig dumps."""
    template = FIELD_OVERRIDES.get(source_type) or AUTH_FIELDS[auth_kind(source_type)]
    values = {
        "slug": slug_of(source_type),
        "label": label_of(source_type),
        "port": DATABASE_PORTS.get(source_type, ""),
    }
    return [
        {
            "name": name.format(**values),
            "label": label.format(**values),
            "type": kind,
            "required": required,
            "placeholder": placeholder.format(**values),
        }
        for name, label, kind, required, placeholder in template
    ]


def sensitive_keys(source_type: str) -> set[str]:
    """job_inputs keys never returned: the source's secret fields."""
    return {f["name"] for f in wizard_fields(source_type) if f["type"] == "password"} | {"client_secret"}


def source_tables(source_type: str) -> list[str]:
    return SOURCE_TABLES.get(source_type) or DOMAIN_TABLES[domain_of(source_type)]


def incremental_fields(source_type: str, table: str) -> list[dict[str, str]]:
    if table in STATIC_TABLES:
        return []
    domain = domain_of(source_type)
    kind = source_type if source_type in INCREMENTAL_FIELDS else "database" if domain == "database" else "api"
    return [
        {"label": label, "type": kind_, "field": field, "field_type": field_type}
        for label, kind_, field, field_type in INCREMENTAL_FIELDS[kind]
    ]


def auto_sync_matches(name: str, patterns: list[str] | None) -> bool:
    """schema_name_matches_auto_sync_patterns: no pattern that is not blank means every table; a
    glob (case-insensitive, stripped) matches the whole name or its tail after a schema prefix."""
    globs = [pattern.strip().lower() for pattern in patterns or [] if pattern.strip()]
    if not globs:
        return True
    names = {name.lower(), name.lower().rsplit(".", 1)[-1]}
    return any(fnmatch.fnmatchcase(candidate, glob) for glob in globs for candidate in names)


def describe_table(source_type: str, table: str) -> dict[str, Any]:
    """One entry of database_schema: what PostHog found in the source for a table."""
    fields = incremental_fields(source_type, table)
    is_database = domain_of(source_type) == "database"
    return {
        "table": table,
        "should_sync": False,
        "incremental_fields": fields,
        "incremental_available": bool(fields),
        "append_available": bool(fields),
        "incremental_field": fields[0]["field"] if fields else None,
        "sync_type": None,
        # Databases report a row estimate; APIs cannot count without reading everything.
        "rows": 100 + zlib.crc32(f"{source_type}:{table}".encode()) % 90000 if is_database else None,
    }


def config_problems(source_type: str, config: dict[str, Any]) -> list[str]:
    """The wizard's required fields missing from a source config."""
    return [
        f"{f['name']} is required"
        for f in wizard_fields(source_type)
        if f["required"] and config.get(f["name"]) in (None, "")
    ]


class ExternalDataSources(Resource):
    @cached_property
    def source_types(self) -> list[str]:
        """SourceTypeEnum, read from the schema that declares it."""
        return self.backend.contract.schemas.definition("source_types.json", "SourceType")["enum"]

    @cached_property
    def sync_frequencies(self) -> list[str]:
        """ExternalDataSchema.sync_frequency's choices, read from the schema that declares them."""
        schema = self.backend.contract.schemas.definition(f"{self.spec.schema}.json", "ExternalDataSchema")
        return [value for value in schema["properties"]["sync_frequency"]["enum"] if value is not None]

    # -- reading -----------------------------------------------------------------------------
    def filter(self, call: Call, rows: list[Record]) -> list[Record]:
        # DRF SearchFilter: every whitespace/comma separated term must match a search field.
        terms = [t for t in re.split(r"[\s,]+", call.query.get("search") or "") if t]
        return [row for row in rows if all(t.lower() in row["_source_id"].lower() for t in terms)]

    def serialize(self, call: Call, record: Record) -> dict[str, Any]:
        record = self.settle(call, record)
        jobs = [job for job in call.table(JOBS).values() if job["_source"] == record["id"]]
        return self.present(record, jobs)

    def settle(self, call: Call, record: Record) -> Record:
        """Finish the source's running jobs whose time has come, and update its schemas."""
        jobs = [job for job in call.table(JOBS).values() if job["_source"] == record["id"]]
        due = [
            job
            for job in jobs
            if job["status"] == "Running" and "_ready_at" in job and finished(job["_ready_at"], call.now)
        ]
        if not due:
            return record
        for job in due:
            done = {
                **job,
                "status": "Completed",
                "finished_at": max(job["created_at"], job["_ready_at"] or call.timestamp()),
                "rows_synced": call.rng.randint(50, 50_000),
                "_ready_at": None,
            }
            call.table(JOBS).put(job["id"], done)
        jobs = sorted(
            (job for job in call.table(JOBS).values() if job["_source"] == record["id"]),
            key=lambda job: job["created_at"],
        )
        return self.save(call, _settle(call.new_uuid, record, jobs))

    def fixture_view(self, record: Record) -> dict[str, Any]:
        return self.present(record, [])

    def present(self, record: Record, jobs: list[Record]) -> dict[str, Any]:
        hidden = sensitive_keys(record["source_type"])
        job_inputs = record.get("job_inputs")
        completed = [job["created_at"] for job in jobs if job["status"] == "Completed"]
        derived = {
            "status": _derived_status(record),
            "latest_error": next((s["latest_error"] for s in record["schemas"] if s["latest_error"]), None),
            "last_run_at": max(completed, default=None),
            "job_inputs": {k: v for k, v in job_inputs.items() if k not in hidden}
            if isinstance(job_inputs, dict)
            else job_inputs,
            "supports_webhooks": record["source_type"] in WEBHOOK_SOURCES,
            "supports_column_selection": record["source_type"] not in MANAGED_SCHEMA_SOURCES,
            "api_version_deprecation": None,
        }
        stored = {**FIELD_DEFAULTS, **record}
        return {name: derived[name] if name in derived else stored.get(name) for name in self.fields}

    # -- create ------------------------------------------------------------------------------
    @quirk("external_data_sources_create")
    def create(self, call: Call) -> Any:
        """ExternalDataSourceViewSet.create today: the view's checks in its order, each a bare
        ``{"message"}`` 400; ``payload.schemas`` omitted (or empty) syncs every discovered table
        with the defaults PostHog's build_default_schemas picks."""
        body = call.body
        source_type, prefix = body["source_type"], body.get("prefix")
        payload = dict(body["payload"])
        # A credential_id names connection details stored on PostHog's connect-link page (single-use,
        # the storing user's own, 24 hours); mockhog serves no such page, so none is ever stored.
        credential_id = payload.pop("credential_id", None)
        if credential_id is not None:
            raise _message(f"Stored credential '{credential_id}' not found or expired")
        access_method = body.get("access_method") or "warehouse"
        direct = access_method == "direct"
        created_via = body.get("created_via") or "api"
        if created_via == "mcp":
            created_via = CREATED_VIA_BY_CALLER.get(event_source(call.header("User-Agent")), created_via)
        if prefix == RESERVED_PREFIX:
            raise _message(RESERVED_PREFIX_MESSAGE)
        if direct and source_type not in DIRECT_CAPABLE:
            raise _message(DIRECT_UNSUPPORTED)
        if direct:
            prefix = prefix.strip() if isinstance(prefix, str) else ""
            if not prefix:
                raise _message("Name is required for direct query sources")
        else:
            self.check_new_prefix(call, source_type, prefix)
        # PostHog strips the payload's string values before reading them.
        payload = {k: v.strip() if isinstance(v, str) else v for k, v in payload.items()}
        if not direct and source_type in DIRECT_ONLY:
            raise _message(f"{label_of(source_type)} is available only as a direct connection.")
        problems = config_problems(source_type, payload)
        if problems:
            raise _message(f"Invalid source config: {', '.join(problems)}")
        choices = payload.get("schemas")
        if choices is not None and not isinstance(choices, list):
            raise _message("The 'schemas' field must be a list of the tables to sync.")
        if not choices:
            choices = default_schemas(source_type)
        available = set(source_tables(source_type))
        if not all(isinstance(c, dict) and c.get("name") in available for c in choices):
            raise _message("Schemas given do not exist in source")
        for choice in choices:
            if choice.get("should_sync", False) and choice.get("sync_type") in ("incremental", "append"):
                if choice.get("incremental_field") is None:
                    raise _message("Incremental schemas given do not have an incremental field set")
                if choice.get("incremental_field_type") is None:
                    raise _message("Incremental schemas given do not have an incremental field type set")
        record = {
            "id": call.new_uuid(),
            "created_at": call.timestamp(),
            "created_by": call.user["email"],
            # engine is what a live connection reports (mockhog opens none); api_version the default.
            **FIELD_DEFAULTS,
            "created_via": created_via,
            "source_type": source_type,
            "prefix": prefix,
            "description": body.get("description"),
            "access_method": access_method,
            "direct_query_enabled": bool(body.get("direct_query_enabled")),
            "job_inputs": {k: v for k, v in payload.items() if k != "schemas"},
            "revenue_analytics_config": _default_revenue_config(source_type),
            "user_access_level": "editor",
            "schemas": [_new_schema(call.new_uuid(), choice) for choice in choices],
            "_source_id": call.new_uuid(),
            "_status": "Running",
        }
        self.save(call, record if direct else self.start_sync(call, record))
        return {"id": record["id"]}

    def check_new_prefix(self, call: Call, source_type: Any, prefix: Any) -> None:
        """The create's prefix rules: a HogQL-safe identifier (an envelope 400), and a second
        source of a type needs a prefix no other one of that type has (bare 400s)."""
        if prefix:
            cleaned = prefix.strip("_")
            if not cleaned:
                raise errors.validation_error("Prefix cannot consist of only underscores")
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", cleaned):
                raise errors.validation_error(
                    "Prefix must contain only letters, numbers, and underscores, and start with a letter "
                    "or underscore"
                )
        self.check_prefix_free(call, source_type, prefix)

    def check_prefix_free(self, call: Call, source_type: Any, prefix: Any) -> None:
        """A second source of a type needs a prefix no other one of that type has (bare 400s)."""
        same_type = [row for row in self.rows(call) if row["source_type"] == source_type]
        if same_type and not prefix:
            raise _message(
                "You already have a source of this type. Add a table prefix so this connection's tables "
                "don't clash with your existing source."
            )
        if prefix and any(row["prefix"] == prefix for row in same_type):
            raise _message(
                f"Another source of this type already uses the prefix '{prefix}'. Choose a different "
                "prefix so this connection's tables don't clash."
            )

    def start_sync(self, call: Call, record: Record) -> Record:
        """Start a sync workflow for every schema that syncs: each gets a Running job."""
        schemas = []
        for schema in record["schemas"]:
            if schema["should_sync"]:
                schema = {**schema, "status": "Running"}
                job = {
                    "id": call.new_uuid(),
                    "created_at": call.timestamp(),
                    "created_by": None,
                    "finished_at": None,
                    "status": "Running",
                    "rows_synced": 0,
                    "latest_error": None,
                    "workflow_run_id": call.new_uuid(),
                    "_source": record["id"],
                    "_schema": schema["id"],
                    # The sync finishes at once, after a delay, or when advanced (mockhog.lifecycle).
                    "_ready_at": call.backend.lifecycle.due("external_data_jobs", call.now),
                }
                call.table(JOBS).put(job["id"], job)
            schemas.append(schema)
        return {**record, "schemas": schemas, "_status": "Running"}

    # -- update ------------------------------------------------------------------------------
    def change(self, call: Call, record: Record, data: dict[str, Any]) -> Record:
        # client_secret/account_id are write-only inputs PostHog never stores; prefix is ignored.
        # created_via is write-once: an update ignores it.
        editable = ("description", "job_inputs", "direct_query_enabled", "auto_sync_new_schemas")
        changes = {k: v for k, v in data.items() if k in editable or k == "auto_sync_schema_patterns"}
        if "job_inputs" in changes:
            changes["job_inputs"] = {**(record.get("job_inputs") or {}), **(changes["job_inputs"] or {})}
        return {**record, **changes}

    @quirk("external_data_sources_revenue_analytics_config_partial_update")
    def revenue_analytics_config(self, call: Call) -> Any:
        record = self.get(call)
        config = {**record["revenue_analytics_config"], **call.body}
        return self.serialize(call, self.save(call, {**record, "revenue_analytics_config": config}))

    # -- actions on one source ---------------------------------------------------------------
    @quirk("external_data_sources_jobs_retrieve")
    def jobs(self, call: Call) -> Any:
        record = self.settle(call, self.get(call))
        jobs = [job for job in call.table(JOBS).values() if job["_source"] == record["id"]]
        schemas = {schema["id"]: schema for schema in record["schemas"]}
        after = _moment(call.query.get("after"))
        before = _moment(call.query.get("before"))
        wanted = set(call.query_lists.get("schemas", []))
        if after:
            jobs = [job for job in jobs if _moment(job["created_at"]) > after]
        if before:
            jobs = [job for job in jobs if _moment(job["created_at"]) < before]
        if wanted:
            jobs = [job for job in jobs if schemas[job["_schema"]]["name"] in wanted]
        jobs.sort(key=lambda job: job["created_at"], reverse=True)
        return [_present_job(job, schemas[job["_schema"]]) for job in jobs[:JOB_LIMIT]]

    @quirk("external_data_sources_reload_create")
    def reload(self, call: Call) -> Any:
        self.save(call, self.start_sync(call, self.get(call)))
        return Reply(status=200)

    @quirk("external_data_sources_refresh_schemas_create")
    def refresh_schemas(self, call: Call) -> Any:
        """Match the source's schemas to the tables it has now. New ones arrive unsynced, unless
        the source syncs new tables (auto_enable_new_schemas: a warehouse source with
        auto_sync_new_schemas, a table its patterns match, incremental where the table has a field
        to sync on, else a full refresh)."""
        record = self.get(call)
        source_type = record["source_type"]
        tables = source_tables(source_type)
        known = {schema["name"] for schema in record["schemas"]}
        auto = record.get("auto_sync_new_schemas") and record.get("access_method") != "direct"
        added, enabled = [], 0
        for name in tables:
            if name in known:
                continue
            choice: dict[str, Any] = {"name": name, "should_sync": False}
            if auto and auto_sync_matches(name, record.get("auto_sync_schema_patterns")):
                fields = incremental_fields(source_type, name)
                choice = {
                    "name": name,
                    "should_sync": True,
                    "sync_type": "incremental" if fields else "full_refresh",
                }
                if fields:
                    choice.update(
                        incremental_field=fields[0]["field"], incremental_field_type=fields[0]["field_type"]
                    )
                enabled += 1
            added.append(_new_schema(call.new_uuid(), choice))
        kept = [schema for schema in record["schemas"] if schema["name"] in tables]
        deleted = len(record["schemas"]) - len(kept)
        if added or deleted:
            self.save(call, {**record, "schemas": kept + added})
        return {
            "added": len(added),
            "deleted": deleted,
            "auto_enabled": enabled,
            "total_tables_seen": len(tables),
        }

    # -- actions on the collection -----------------------------------------------------------
    @quirk("external_data_sources_database_schema_create")
    def database_schema(self, call: Call) -> Any:
        body = call.body
        source_type = body.get("source_type")
        if not source_type:
            raise _message("Missing required parameter: source_type")
        if source_type not in self.source_types:
            raise _message("Invalid parameter: source_type")
        problems = config_problems(source_type, body)
        if problems:
            raise _message(f"Invalid source config: {', '.join(problems)}")
        return [describe_table(source_type, table) for table in source_tables(source_type)]

    @quirk("external_data_sources_source_prefix_create")
    def source_prefix(self, call: Call) -> Any:
        """ExternalDataSourceViewSet.source_prefix today: the reserved name, then for a direct
        connection only its type and a non-blank name, else the create's uniqueness rules (not
        its format check); 200 with no body when the prefix would do."""
        body = call.body
        source_type, prefix = body.get("source_type"), body.get("prefix")
        if prefix == RESERVED_PREFIX:
            raise _message(RESERVED_PREFIX_MESSAGE)
        if body.get("access_method") == "direct":
            if source_type not in DIRECT_CAPABLE:
                raise _message(DIRECT_UNSUPPORTED)
            if not (prefix.strip() if isinstance(prefix, str) else ""):
                raise _message("Name is required for direct query sources")
            return Reply(status=200)
        self.check_prefix_free(call, source_type, prefix)
        return Reply(status=200)

    @quirk("external_data_sources_wizard_retrieve")
    def wizard(self, call: Call) -> Any:
        """Every source type's config, or only those of ``?source_type=A,B`` (an unknown one is a
        bare 400), cacheable privately for ten minutes, as ExternalDataSourceViewSet.wizard does."""
        types = self.source_types
        requested = [t.strip() for t in str(call.query.get("source_type") or "").split(",") if t.strip()]
        if requested:
            unknown = sorted(set(requested) - set(types))
            if unknown:
                raise _message(
                    f"Unknown source_type(s): {', '.join(unknown)}. "
                    "Omit source_type to list every available type."
                )
            types = [t for t in types if t in requested]
        body = {source_type: _wizard_entry(source_type) for source_type in types}
        return Reply(body, headers={"Cache-Control": "private, max-age=600"})

    # -- connections (connection_options.py ExternalDataSourceConnectionOptionsMixin) ---------
    @quirk("external_data_sources_connections_list")
    def connections(self, call: Call) -> Any:
        """The sources execute-sql can read live: a direct-capable type, connected directly or
        synced with direct queries on, newest first. PostHog lists its managed warehouse first;
        mockhog provisions none (its prefix is reserved), so no row is one."""
        rows = [
            row
            for row in self.rows(call)
            if row["source_type"] in DIRECT_CAPABLE
            and (row.get("access_method") == "direct" or row.get("direct_query_enabled"))
        ]
        rows.sort(key=lambda row: row["created_at"], reverse=True)
        return [
            {
                "id": row["id"],
                "prefix": row.get("prefix"),
                "engine": row.get("engine"),
                "source_type": row["source_type"],
                "access_method": row.get("access_method") or "warehouse",
                # Every direct engine PostHog registers compiles HogQL (its adapter has a dialect).
                "supports_hogql": True,
                "is_builtin_managed_warehouse": False,
                "description": row.get("description"),
            }
            for row in rows
        ]

    # -- bulk_update_schemas (schema_operations.py ExternalDataSourceSchemaOperationsMixin) -----
    @quirk("external_data_sources_bulk_update_schemas_partial_update")
    def bulk_update_schemas(self, call: Call) -> Any:
        """Every id must be one of the source's schemas (else nothing is written); each update is
        then checked as ExternalDataSchemaSerializer.update checks it, and a schema whose update
        fails is reported by name while the others are saved, as PostHog saves each schema in its
        own transaction. The answer is the updated schemas, in the request's order."""
        record = self.get(call)
        updates = call.body["schemas"]
        ids = [update["id"] for update in updates]
        if len(set(ids)) != len(ids):
            raise errors.validation_error("Schema updates must contain unique ids")
        by_id = {schema["id"]: schema for schema in record["schemas"]}
        if any(schema_id not in by_id for schema_id in ids):
            raise errors.validation_error("One or more schemas could not be found for this source")
        # ExternalDataSchemaSerializer(partial=True).is_valid runs for every item before anything
        # is written: a field it refuses fails the whole request.
        for update in updates:
            frequency = update.get("sync_frequency")
            if frequency is not None and frequency not in self.sync_frequencies:
                raise errors.validation_error(
                    f'"{frequency}" is not a valid choice.', "sync_frequency", "invalid_choice"
                )
        updated: dict[str, dict[str, Any]] = {}
        failures: list[tuple[str, str]] = []
        for update in updates:
            schema = by_id[update["id"]]
            try:
                updated[schema["id"]] = self.update_schema(record, schema, update)
            except errors.ApiError as refusal:
                failures.append((schema["name"], str(refusal)))
        if updated:
            schemas = [updated.get(schema["id"], schema) for schema in record["schemas"]]
            # The schema model has no primary key columns: they are kept beside the schemas.
            keys = dict(record.get("_primary_keys") or {})
            keys.update(
                (update["id"], update["primary_key_columns"])
                for update in updates
                if "primary_key_columns" in update
                and update["id"] in updated
                and updated[update["id"]]["sync_type"] in INCREMENTAL_STYLE
            )
            self.save(call, {**record, "schemas": schemas, "_primary_keys": keys})
        if failures:
            # BulkSchemaSaveError: an APIException, so drf-exceptions-hog types it invalid_request.
            # A reply, not a raise: the schemas that saved stay saved.
            reasons = "; ".join(f"{name} ({reason})" for name, reason in failures)
            detail = (
                f"These schemas in the batch could not be saved: {reasons}. Any other schemas in the "
                "batch were saved successfully — retry the ones listed here."
            )
            refusal = errors.ApiError(400, "invalid_request", "bulk_schema_save_failed", detail)
            return Reply(refusal.body, status=400)
        return [updated[schema_id] for schema_id in ids]

    def update_schema(self, record: Record, schema: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
        """One schema after ExternalDataSchemaSerializer.update (external_data_schema.py), in its
        order of checks, for the fields mockhog's schema model holds."""
        data = {k: v for k, v in update.items() if k not in ("id", "apply_sync_defaults")}
        if (
            update.get("apply_sync_defaults")
            and data.get("sync_type") is None
            and schema["sync_type"] is None
        ):
            data = {**self.sync_defaults(record, schema), **{k: v for k, v in data.items() if v is not None}}
        if data.get("enabled_columns") is not None and record["source_type"] in MANAGED_SCHEMA_SOURCES:
            raise errors.validation_error("Column selection is not supported for this source type.")
        sync_type = data.get("sync_type")
        if sync_type == "cdc":
            raise errors.validation_error(CDC_FLAG_OFF)
        if sync_type == "xmin":
            if record["source_type"] != "Postgres":
                raise errors.validation_error("xmin replication is only available for Postgres sources.")
            raise errors.validation_error(XMIN_FLAG_OFF)
        if sync_type == "webhook":
            # A webhook sync registers the webhook with the vendor while the schema is saved;
            # mockhog cannot, so it stores no webhook schema.
            raise errors.validation_error(
                f"Failed to register webhook on your source: {OFFLINE}. You can set up the webhook "
                "manually from the Webhook tab."
            )
        resulting = sync_type if "sync_type" in data else schema["sync_type"]
        if "sync_type" not in data and resulting not in INCREMENTAL_STYLE:
            bare = [
                name
                for name in ("incremental_field", "incremental_field_type", "primary_key_columns")
                if data.get(name) is not None
            ]
            if bare:
                raise errors.validation_error(
                    f"{', '.join(bare)} cannot be applied to a schema with sync type "
                    f"{resulting or 'not set'} on its own. Include sync_type in the same request to change "
                    "the sync type."
                )
        changed = dict(schema)
        if "sync_type" in data:
            changed["sync_type"] = sync_type
            changed["incremental"] = sync_type == "incremental"
        if resulting in INCREMENTAL_STYLE:
            if (
                "primary_key_columns" in data
                and resulting == "incremental"
                and schema["table"] is not None
                and data["primary_key_columns"] != (record.get("_primary_keys") or {}).get(schema["id"])
            ):
                raise errors.validation_error(
                    "Primary key cannot be changed after data has been synced. Delete the synced data "
                    "first, then change the primary key."
                )
            for name in ("incremental_field", "incremental_field_type"):
                if name in data:
                    changed[name] = data[name]
        if data.get("sync_frequency"):
            changed["sync_frequency"] = data["sync_frequency"]
        should_sync = data.get("should_sync")
        schedulable = record["source_type"] not in DIRECT_ONLY and record.get("access_method") != "direct"
        if schedulable and should_sync is True and sync_type is None and schema["sync_type"] is None:
            raise errors.validation_error("Sync type must be set up first before enabling schema")
        if should_sync is not None:
            changed["should_sync"] = should_sync
        return changed

    def sync_defaults(self, record: Record, schema: dict[str, Any]) -> dict[str, Any]:
        """apply_sync_defaults: the settings build_default_sync_settings picks for the table on
        the source now (_fill_default_sync_settings), refused for a table the source has lost."""
        choice = next(
            (c for c in default_schemas(record["source_type"]) if c["name"] == schema["name"]), None
        )
        if choice is None:
            raise errors.validation_error(
                "not found on the source; pull new schemas to refresh the table list"
            )
        return {k: v for k, v in choice.items() if k not in ("name", "should_sync")}

    # -- change data capture (change_data_capture.py ExternalDataSourceCDCMixin) --------------
    @quirk("external_data_sources_check_cdc_prerequisites_create")
    def check_cdc_prerequisites(self, call: Call) -> Any:
        """The wizard's CDC check: the source type, its config and the management mode are
        checked as PostHog checks them; the check itself runs on a live Postgres connection,
        which mockhog cannot open, so a valid request gets PostHog's 400 for a database it
        cannot connect to."""
        body = call.body if isinstance(call.body, dict) else {}
        source_type = body.get("source_type")
        if not isinstance(source_type, str) or source_type not in CDC_SOURCES:
            raise _message("CDC prerequisite checks are only supported for CDC enabled sources.")
        problems = config_problems(source_type, body)
        if problems:
            raise _message(f"Invalid source config: {', '.join(problems)}")
        if body.get("cdc_management_mode", "posthog") not in CDC_MANAGEMENT_MODES:
            raise _message("cdc_management_mode must be 'posthog' or 'self_managed'.")
        where = f"{body.get('host')}:{body.get('port') or DATABASE_PORTS[source_type]}"
        raise _message(f"Could not connect to Postgres to check prerequisites: {OFFLINE} ({where})")

    @quirk("external_data_sources_repair_cdc_create")
    def repair_cdc(self, call: Call) -> Any:
        """Repair only a CDC source (Postgres, Supabase) with CDC enabled and CDC schemas
        syncing (repair_cdc_source); past those checks the repair probes the source database,
        which mockhog cannot reach."""
        record = self.get(call)
        if record["source_type"] not in CDC_SOURCES:
            raise _message(f"CDC is not supported for source type: {record['source_type']}")
        if not (record.get("job_inputs") or {}).get("cdc_enabled"):
            raise _message("CDC is not enabled on this source.")
        if not any(s["sync_type"] == "cdc" and s["should_sync"] for s in record["schemas"]):
            raise _message("There are no active CDC schemas on this source to repair.")
        raise _message(f"Could not connect to source to repair CDC: {OFFLINE}")

    # -- webhooks (webhook_setup.py ExternalDataSourceWebhookSetupMixin) ----------------------
    # A source's webhook is a HogFunction of type warehouse_source_webhook; mockhog keeps it on
    # the source record (``_webhook``), so it is not listed among the project's hog functions.
    @quirk("external_data_sources_webhook_info_retrieve")
    def webhook_info(self, call: Call) -> Any:
        record = self.get(call)
        if record["source_type"] not in WEBHOOK_SOURCES:
            return {
                "supports_webhooks": False,
                "exists": False,
                "auto_creation_blocked_reason": None,
                "hog_function": None,
                "webhook_url": None,
                "schema_mapping": {},
                "external_status": None,
            }
        hook = record.get("_webhook")
        if hook is None:
            return {
                "supports_webhooks": True,
                "exists": False,
                "auto_creation_blocked_reason": None,
                "hog_function": None,
                "webhook_url": None,
                "schema_mapping": {},
                "inputs": {},
                "external_status": None,
                "missing_events": [],
            }
        external = None
        if record.get("job_inputs"):
            # The vendor is asked what it holds; unreachable, it answers with an error and no webhook.
            external = {
                "exists": False,
                "url": None,
                "enabled_events": None,
                "status": None,
                "description": None,
                "created_at": None,
                "api_version": None,
                "error": WEBHOOK_STATUS_FAILED.format(error=OFFLINE),
            }
        names = {name for name, _ in webhook_fields(record["source_type"])}
        return {
            "supports_webhooks": True,
            "exists": True,
            "auto_creation_blocked_reason": None,
            "hog_function": {
                "id": hook["id"],
                "name": hook["name"],
                "enabled": hook["enabled"],
                "created_at": hook["created_at"],
                "status": dict(HOG_FUNCTION_DEFAULT_STATE),
            },
            "webhook_url": webhook_url(call, hook["id"]),
            "schema_mapping": hook["schema_mapping"],
            # Webhook fields are secrets: HogFunctionSerializer shows a set one as {"secret": true}.
            "inputs": {name: {"secret": True} for name in hook["inputs"] if name in names},
            "external_status": external,
            # Missing events are computed only from a status the vendor answered.
            "missing_events": [],
        }

    @quirk("external_data_sources_create_webhook_create")
    def create_webhook(self, call: Call) -> Any:
        """Make (or update) the source's webhook function, then register its URL with the vendor,
        which mockhog cannot reach: 200 with success false, the URL to set up by hand and the
        vendor client's error. The function stays, as PostHog keeps it for a manual setup."""
        record = self.webhook_source(call)
        inputs = call.body.get("inputs") if isinstance(call.body, dict) else None
        inputs = inputs or {}
        fields = webhook_fields(record["source_type"])
        if not isinstance(inputs, dict) or set(inputs) - {name for name, _ in fields}:
            raise _message("Invalid webhook inputs")
        blanked = [name for name, required in fields if required and name in inputs and not inputs[name]]
        if blanked:
            raise _message(f"Missing required fields: {', '.join(blanked)}")
        capable = set(source_tables(record["source_type"]))
        mapping = {
            schema["name"]: schema["id"]
            for schema in record["schemas"]
            if schema["sync_type"] == "webhook" and schema["should_sync"] and schema["name"] in capable
        }
        hook = record.get("_webhook") or {
            "id": call.new_uuid(),
            "name": f"{label_of(record['source_type'])} warehouse source webhook",
            # webhook_info sends hog_function.created_at.isoformat()
            "created_at": call.now.isoformat(),
            "schema_mapping": {},
            "inputs": {},
        }
        hook = {
            **hook,
            "enabled": True,
            "schema_mapping": {**hook["schema_mapping"], **mapping},
            "inputs": {**hook["inputs"], **{k: v for k, v in inputs.items() if v}},
        }
        self.save(call, {**record, "_webhook": hook})
        return {
            "success": False,
            "webhook_url": webhook_url(call, hook["id"]),
            "error": WEBHOOK_CREATE_FAILED.format(error=OFFLINE),
            "pending_inputs": [],
        }

    @quirk("external_data_sources_update_webhook_inputs_create")
    def update_webhook_inputs(self, call: Call) -> Any:
        record = self.webhook_source(call)
        inputs = call.body.get("inputs", {}) if isinstance(call.body, dict) else {}
        if not inputs or not isinstance(inputs, dict):
            raise _message("No inputs provided")
        fields = webhook_fields(record["source_type"])
        invalid = sorted(set(inputs) - {name for name, _ in fields})
        if invalid:
            raise _message(f"Invalid input keys: {', '.join(invalid)}")
        blanked = [name for name, required in fields if required and name in inputs and not inputs[name]]
        if blanked:
            raise _message(f"Missing required fields: {', '.join(blanked)}")
        hook = record.get("_webhook")
        if hook is None:
            raise _message("No webhook function found for this source. Create a webhook first.")
        # The inputs are saved on the function before the vendor is told of them.
        self.save(call, {**record, "_webhook": {**hook, "inputs": {**hook["inputs"], **inputs}}})
        if record["source_type"] in VENDOR_INPUT_UPDATE:
            # A reply, not a raise: the inputs stay saved on the function, as in PostHog.
            return Reply({"success": False, "error": f"Could not update the webhook: {OFFLINE}"}, status=400)
        return {"success": True}

    @quirk("external_data_sources_delete_webhook_create")
    def delete_webhook(self, call: Call) -> Any:
        """Refused while a table syncs by webhook; else the function is deleted and the vendor
        asked to remove its endpoint, which mockhog cannot reach (external_deleted false)."""
        record = self.get(call)
        if record["source_type"] not in WEBHOOK_SOURCES:
            raise _message("This source type does not support webhooks")
        using = [s["name"] for s in record["schemas"] if s["sync_type"] == "webhook" and s["should_sync"]]
        if using:
            raise _message(
                f"Cannot delete webhook while tables are using webhook sync: {', '.join(using)}. Switch them "
                "to full refresh, incremental, or disable syncing first."
            )
        hook = record.get("_webhook")
        if hook is not None:
            self.save(call, {k: v for k, v in record.items() if k != "_webhook"})
        if hook is None or not record.get("job_inputs"):
            return {"success": True, "external_deleted": False, "error": None}
        return {
            "success": True,
            "external_deleted": False,
            "error": WEBHOOK_DELETE_FAILED.format(error=OFFLINE),
        }

    def webhook_source(self, call: Call) -> Record:
        """The source, refused as create_webhook and update_webhook_inputs refuse it first."""
        record = self.get(call)
        if not record.get("job_inputs"):
            raise _message("Source has no configuration")
        if record["source_type"] not in WEBHOOK_SOURCES:
            raise _message("This source type does not support webhooks")
        return record

    # -- preview_resource (source_setup.py ExternalDataSourceSetupMixin) ----------------------
    @quirk("external_data_sources_preview_resource_create")
    def preview_resource(self, call: Call) -> Any:
        """A sample of one resource of a Custom REST source's manifest: the source type, config,
        manifest JSON and resource name are checked as PostHog checks them; the read itself is
        a live request to the manifest's API, which mockhog cannot make, so the answer is
        PostHog's for a failed live read (200, no rows, error set)."""
        body = call.body
        source_type = body["source_type"]
        if source_type != "Custom":
            raise _message(f"Preview is not supported for source type '{source_type}'.")
        payload = body.get("payload") or {}
        problems = config_problems(source_type, payload)
        if problems:
            raise _message(f"Invalid source config: {', '.join(problems)}")
        manifest = payload["manifest_json"]
        if isinstance(manifest, str):
            try:
                manifest = json.loads(manifest)
            except json.JSONDecodeError as bad:
                raise _message(
                    f"Manifest is not valid JSON: {bad.msg} (line {bad.lineno}, col {bad.colno})"
                ) from None
        name = body["resource_name"]
        resources = manifest.get("resources") if isinstance(manifest, dict) else None
        resource = next(
            (r for r in resources or [] if isinstance(r, dict) and r.get("name") == name),
            None,
        )
        if resource is None:
            raise _message(f"Resource {name!r} not found in manifest")
        return {
            "rows": [],
            "row_count": 0,
            "columns": [],
            "error": f"Could not reach {resource_url(manifest, resource)}: {OFFLINE}",
        }

    # -- seed data ---------------------------------------------------------------------------
    seed_writes = (JOBS,)

    def seed(self, ctx: Any) -> list[Record]:
        setup = ctx.profile["external_data_sources"]
        jobs_table = ctx.tables.setdefault(JOBS, {})
        records = []
        for spec in setup["sources"]:
            record = _seed_source(ctx, spec)
            jobs = _seed_jobs(ctx, record, setup["jobs_per_source"])
            for job in jobs:
                jobs_table[job["id"]] = job
            records.append(_settle(ctx.uuid, record, jobs))
        return records


def webhook_fields(source_type: str) -> list[tuple[str, bool]]:
    return WEBHOOK_FIELDS.get(source_type, DEFAULT_WEBHOOK_FIELDS)


def webhook_url(call: Call, hook_id: str) -> str:
    """get_webhook_url on a self-hosted PostHog (no cloud deployment): the site's own URL."""
    parts = urlsplit(call.url.base)
    return f"{parts.scheme}://{parts.netloc}/public/webhooks/dwh/{hook_id}"


def resource_url(manifest: dict[str, Any], resource: dict[str, Any]) -> str:
    """The URL a manifest resource's endpoint reads, as CustomSource builds it."""
    endpoint = resource.get("endpoint") if isinstance(resource.get("endpoint"), dict) else {}
    path = str(endpoint.get("path") or "")
    if path.startswith(("http://", "https://")):
        return path
    client = manifest.get("client") if isinstance(manifest.get("client"), dict) else {}
    return f"{str(client.get('base_url') or '').rstrip('/')}/{path.lstrip('/')}"


def event_source(user_agent: str) -> str | None:
    """The PostHog caller get_event_source reads from a User-Agent, of those that upgrade an mcp
    create: the first product token is the outer caller (``posthog/wizard 1.0 posthog/mcp-server``
    is the wizard); ``posthog/code`` and ``posthog/<app>.hog.dev`` are PostHog Code."""
    first = user_agent.split()[0].lower() if user_agent.strip() else ""
    if not first.startswith("posthog/"):
        return None
    product = first.removeprefix("posthog/")
    if product == "wizard":
        return "wizard"
    if product == "code" or product.endswith(".hog.dev"):
        return "posthog_code"
    return None


def _derived_status(record: Record) -> str:
    syncing = {schema["status"] for schema in record["schemas"] if schema["should_sync"]}
    return next((label for status, label in STATUS_PRECEDENCE if status in syncing), record["_status"])


def _default_revenue_config(source_type: str) -> dict[str, bool]:
    # Revenue analytics reads Stripe data; other sources start with it off.
    return {"enabled": source_type == "Stripe", "include_invoiceless_charges": True}


def default_schemas(source_type: str) -> list[dict[str, Any]]:
    """PostHog's build_default_schemas over the source's tables: every table syncs, incrementally
    on its preferred tracking column where it has one (``updated_at`` before ``created_at``), else
    as a full refresh."""
    choices = []
    for table in source_tables(source_type):
        fields = incremental_fields(source_type, table)
        chosen = next((f for name in _FIELD_PREFERENCE for f in fields if f["field"].lower() == name), None)
        chosen = chosen or (fields[0] if fields else None)
        if chosen is None:
            choices.append({"name": table, "should_sync": True, "sync_type": "full_refresh"})
            continue
        choices.append(
            {
                "name": table,
                "should_sync": True,
                "sync_type": "incremental",
                "incremental_field": chosen["field"],
                "incremental_field_type": chosen["field_type"],
            }
        )
    return choices


# build_default_schemas' preference among tracking columns (lowercased).
_FIELD_PREFERENCE = (
    "updated_at",
    "updatedat",
    "modified_at",
    "modifiedat",
    "last_modified",
    "updated",
    "modified",
    "created_at",
    "createdat",
    "created",
)


def _new_schema(schema_id: str, choice: dict[str, Any]) -> dict[str, Any]:
    # A schema the payload names without should_sync does not sync (PostHog's default is False).
    should_sync = bool(choice.get("should_sync", False))
    sync_type = choice.get("sync_type") or ("full_refresh" if should_sync else None)
    return {
        "id": schema_id,
        "name": choice["name"],
        "table": None,
        "should_sync": should_sync,
        "last_synced_at": None,
        "latest_error": None,
        "incremental": sync_type == "incremental",
        "status": None,
        "sync_type": sync_type,
        "incremental_field": choice.get("incremental_field"),
        "incremental_field_type": choice.get("incremental_field_type"),
        "sync_frequency": choice.get("sync_frequency") or "6hour",
    }


def _present_job(job: Record, schema: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in job.items() if not k.startswith("_")}
    shown["status"] = JOB_STATUS_LABELS.get(job["status"], job["status"])
    shown["schema"] = {k: schema[k] for k in ("id", "name", "should_sync", "last_synced_at")}
    return {
        k: shown[k]
        for k in (
            "id",
            "created_at",
            "created_by",
            "finished_at",
            "status",
            "schema",
            "rows_synced",
            "latest_error",
            "workflow_run_id",
        )
    }


def _wizard_entry(source_type: str) -> dict[str, Any]:
    label = label_of(source_type)
    kind = auth_kind(source_type)
    purpose = f"to automatically pull your {label} data into the PostHog data warehouse."
    if kind == "oauth":
        caption = f"Select an existing {label} account to link to PostHog or create a new connection."
    elif kind == "api_key":
        caption = f"Enter your {label} API key {purpose}"
    else:
        caption = f"Enter your {label} credentials {purpose}"
    docs_slug = slug_of(source_type).replace("_", "-")
    return {
        "name": source_type,
        "label": label,
        "caption": caption,
        "iconPath": f"/static/services/{slug_of(source_type)}.png",
        "docsUrl": f"https://posthog.com/docs/cdp/sources/{docs_slug}",
        "fields": wizard_fields(source_type),
        "betaSource": source_type not in ESTABLISHED,
        "unreleasedSource": False,
    }


def _moment(value: str | None) -> datetime | None:
    """An ISO date or time; a naive one is UTC, as Django takes a naive datetime under USE_TZ.
    Blank is no bound. PostHog's jobs action (job_runs.py) parses ``after``/``before`` with
    dateutil and answers text it cannot read with one ValidationError for both; mockhog reads ISO
    8601 only (dateutil's other forms are not reproduced)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise errors.validation_error("after and before must be ISO 8601 timestamps.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- seed helpers ------------------------------------------------------------------------------
def _credential(ctx: Any, field: dict[str, Any]) -> Any:
    """A believable value for one wizard field."""
    name, kind = field["name"], field["type"]
    if kind == "number":
        return int(field["placeholder"])
    if kind == "oauth":
        return ctx.rng.randint(1, 400)
    if kind == "password":
        return ctx.faker.password(length=32, special_chars=False)
    if name == "host":
        return f"db.{ctx.faker.domain_name()}"
    if "email" in name:
        return ctx.faker.company_email()
    if name.endswith("account_id"):
        return "acct_" + ctx.faker.bothify("????????????????").lower()
    return field["placeholder"] or ctx.faker.domain_word()


def _seed_source(ctx: Any, spec: dict[str, Any]) -> Record:
    source_type = spec["source_type"]
    schemas = []
    for name in spec["schemas"]:
        fields = incremental_fields(source_type, name)
        choice = {
            "name": name,
            "should_sync": True,
            "sync_type": "incremental" if fields else "full_refresh",
            "incremental_field": fields[0]["field"] if fields else None,
            "incremental_field_type": fields[0]["field_type"] if fields else None,
        }
        schemas.append(_new_schema(ctx.uuid(), choice))
    return {
        "id": ctx.uuid(),
        "created_at": ctx.moment(120, 30),
        "created_by": ctx.user["email"],
        **FIELD_DEFAULTS,
        "created_via": "web",
        "source_type": source_type,
        "prefix": spec.get("prefix"),
        "description": f"{label_of(source_type)} data of {ctx.faker.company()}",
        "job_inputs": {f["name"]: _credential(ctx, f) for f in wizard_fields(source_type)},
        "revenue_analytics_config": _default_revenue_config(source_type),
        "user_access_level": "editor",
        "schemas": schemas,
        "_source_id": ctx.uuid(),
        "_status": "Completed",
    }


def _seed_jobs(ctx: Any, record: Record, count: int) -> list[Record]:
    """Sync runs every few hours, oldest first: mostly Completed, some Failed, the newest maybe Running."""
    schemas = record["schemas"]
    label = label_of(record["source_type"])
    failure = FAILURES.get(domain_of(record["source_type"])) or FAILURES.get(auth_kind(record["source_type"]))
    failure = (failure or FAILURES["default"]).format(label=label)
    jobs = []
    for index in range(count):
        hours_back = (count - index) * 6 - ctx.rng.uniform(0, 2)
        started = ctx.clock - timedelta(hours=hours_back)
        newest = index == count - 1
        roll = ctx.rng.random()
        status = "Running" if newest and roll < 0.5 else "Failed" if roll > 0.8 else "Completed"
        duration = timedelta(seconds=ctx.rng.randint(20, 900))
        jobs.append(
            {
                "id": ctx.uuid(),
                "created_at": iso(started),
                "created_by": None,
                "finished_at": None if status == "Running" else iso(started + duration),
                "status": status,
                "rows_synced": 0 if status == "Failed" else ctx.rng.randint(40, 60000),
                "latest_error": failure if status == "Failed" else None,
                "workflow_run_id": ctx.uuid(),
                "_source": record["id"],
                "_schema": schemas[index % len(schemas)]["id"],
            }
        )
    return jobs


def _settle(new_uuid: Any, record: Record, jobs: list[Record]) -> Record:
    """Each schema's state after its jobs: status of its latest run, last completed sync, its table."""
    schemas = []
    for schema in record["schemas"]:
        runs = sorted(
            (job for job in jobs if job["_schema"] == schema["id"]), key=lambda job: job["created_at"]
        )
        if not runs:
            schemas.append(schema)
            continue
        done = [job for job in runs if job["status"] == "Completed"]
        table_name = f"{record['prefix'] or ''}{record['source_type']}_{schema['name']}".lower()
        schemas.append(
            {
                **schema,
                "status": runs[-1]["status"],
                "latest_error": runs[-1]["latest_error"],
                "last_synced_at": done[-1]["finished_at"] if done else None,
                # The warehouse table appears with the first completed sync.
                "table": schema["table"] or ({"id": new_uuid(), "name": table_name} if done else None),
            }
        )
    return {**record, "schemas": schemas, "_status": jobs[-1]["status"] if jobs else "Completed"}
