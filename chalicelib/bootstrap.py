"""Composition root: builds the adapters and services once per process (one Lambda cold start)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from chalicelib import settings
from chalicelib.adapters.cognito import CognitoDirectory, CognitoTokenVerifier
from chalicelib.adapters.dynamodb.articles import ArticleRepository
from chalicelib.adapters.dynamodb.classifier import ClassifierRepository
from chalicelib.adapters.dynamodb.issue_search import IssueSearchRepository
from chalicelib.adapters.dynamodb.issue_types import IssueTypeRepository
from chalicelib.adapters.dynamodb.issues import IssueRepository
from chalicelib.adapters.dynamodb.kpis import KpiRepository
from chalicelib.adapters.dynamodb.link_uses import LinkUseRepository
from chalicelib.adapters.dynamodb.mail import MailRepository
from chalicelib.adapters.dynamodb.models import bind as bind_table
from chalicelib.adapters.dynamodb.rate_limits import RateLimitRepository
from chalicelib.adapters.dynamodb.similar_issues import SimilarVectorRepository
from chalicelib.adapters.dynamodb.surveys import SurveyRepository
from chalicelib.adapters.dynamodb.tasks import TaskRepository
from chalicelib.adapters.encoder_weights import weights_folder
from chalicelib.adapters.metrics import EmfMetrics
from chalicelib.adapters.outbox import OutboxFolder, OutboxMailer
from chalicelib.adapters.s3 import S3ObjectStore
from chalicelib.adapters.secrets import SecretsManagerSecret
from chalicelib.adapters.sentence_encoder import SentenceEncoder, encoder_available
from chalicelib.adapters.ses import SesMailer
from chalicelib.adapters.sqs import JobQueue, TaskQueue
from chalicelib.adapters.stepfunctions import StepFunctionsEngine
from chalicelib.mail.loops import AutomaticMailLimit
from chalicelib.mail.threading import MessageIds, SupportAddress
from chalicelib.services.access import IssueAccess
from chalicelib.services.administration import AdministrationService
from chalicelib.services.agent_groups import AgentGroupService
from chalicelib.services.articles import ArticleService
from chalicelib.services.auth import AuthService
from chalicelib.services.classification import ClassificationService
from chalicelib.services.classifier_training import ClassifierTrainingService
from chalicelib.services.clock import Clock, utc_now
from chalicelib.services.customer_issues import CustomerIssuesService
from chalicelib.services.customer_replies import CustomerReplies
from chalicelib.services.inbound_email import InboundEmailService
from chalicelib.services.intake import IntakeService
from chalicelib.services.issue_details import IssueDetailsService
from chalicelib.services.issue_search import IssueSearch
from chalicelib.services.issue_type_changes import IssueTypeChangeService
from chalicelib.services.issue_types import IssueTypeService
from chalicelib.services.issue_workspace import IssueWorkspace
from chalicelib.services.kpi_recorder import KpiRecorder
from chalicelib.services.notes import NoteService
from chalicelib.services.notifications import NotificationService
from chalicelib.services.ops_kpis import OpsKpiService
from chalicelib.services.ports import Outbox, Secret
from chalicelib.services.reopenings import ReopeningService
from chalicelib.services.replies import ReplyService
from chalicelib.services.similar_issues import SimilarIssues
from chalicelib.services.status_links import StatusLinks
from chalicelib.services.status_pages import StatusPageService
from chalicelib.services.surveys import SurveyService
from chalicelib.services.two_step import TwoStepSignIn
from chalicelib.services.web_forms import FormLimits, WebFormService
from chalicelib.services.workflow.checkpoints import Checkpoints
from chalicelib.services.workflow.claims import Claims
from chalicelib.services.workflow.completions import Completions
from chalicelib.services.workflow.customer_emails import CustomerEmails
from chalicelib.services.workflow.holder_notifications import HolderNotifications
from chalicelib.services.workflow.migrations import Migrations
from chalicelib.services.workflow.queues import Queues
from chalicelib.services.workflow.resumption import Resumption
from chalicelib.services.workflow.stepping import Stepping
from chalicelib.services.workflow.task_links import TaskLinks
from chalicelib.services.workflow.task_timeline import TaskTimeline


@dataclass(frozen=True)
class Services:
    config: settings.Settings
    #: Keys the signed links, the forms' CSRF tokens and the Message-IDs; read when first called.
    link_secret: Secret
    issue_types: IssueTypeService
    intake: IntakeService
    stepping: Stepping
    completions: Completions
    queues: Queues
    claims: Claims
    checkpoints: Checkpoints
    task_links: TaskLinks
    issue_details: IssueDetailsService
    issue_workspace: IssueWorkspace
    issue_search: IssueSearch
    auth: AuthService
    two_step: TwoStepSignIn
    administration: AdministrationService
    agent_groups: AgentGroupService
    inbound_email: InboundEmailService
    replies: ReplyService
    notes: NoteService
    classification: ClassificationService
    classifier_training: ClassifierTrainingService
    issue_type_changes: IssueTypeChangeService
    status_links: StatusLinks
    status_pages: StatusPageService
    surveys: SurveyService
    web_forms: WebFormService
    #: A customer's "My issues": a single-use link by email to the list of their issues.
    customer_issues: CustomerIssuesService
    ops_kpis: OpsKpiService
    reopenings: ReopeningService
    #: The nearest resolved issues of an issue's type, and how they were resolved (decision 0043).
    similar_issues: SimilarIssues
    #: Running processes resume after a restart (`resume_all`), and move to a new version.
    resumption: Resumption
    migrations: Migrations
    outbox: Outbox | None
    #: Help articles: written by admins, shown in the help centre and offered on report forms.
    articles: ArticleService


def config() -> settings.Settings:
    """This process's settings. The one way the app reads them: handlers bind what Chalice needs
    when app.py is imported (the SQS queues' names), services get theirs from `build`."""
    return settings.get()


@lru_cache(maxsize=1)
def services() -> Services:
    return build(utc_now)


def build(clock: Clock) -> Services:
    """Every service on one clock: the system's, or a simulated one (`bench.demo_month`)."""
    config = settings.get()
    bind_table(config.table_name, config.region, config.endpoint_url)
    link_secret = SecretsManagerSecret(
        config.link_secret_id, settings.LINK_SECRET_ID, config.region, config.endpoint_url
    )
    issues = IssueRepository()
    tasks = TaskRepository()
    engine = StepFunctionsEngine(config.workflow_role_arn)
    queue = TaskQueue(config.task_queue_name)
    mailer = SesMailer(config.sender_address)
    outbox = None
    if config.is_dev and config.outbox_dir:
        mailer = OutboxMailer(mailer, config.outbox_dir)
        outbox = OutboxFolder(config.outbox_dir)
    directory = CognitoDirectory(config.user_pool_id, config.user_pool_client_id)
    verifier = CognitoTokenVerifier(config.jwks_url, config.token_issuer, config.user_pool_client_id)
    agent_groups = AgentGroupService(directory)
    issue_types = IssueTypeService(
        IssueTypeRepository(), engine, lambda: queue.url, config.state_machine_prefix, clock, config.is_dev
    )
    #: Who may see an issue: every service that takes an issue, task or attachment from an agent asks it.
    access = IssueAccess(issues, tasks, issue_types)
    mail = MailRepository()
    store = S3ObjectStore(config.mail_bucket)
    support = SupportAddress(config.support_address)
    message_ids = MessageIds(link_secret, support.domain)
    limit = AutomaticMailLimit(config.automatic_mail_limit, timedelta(hours=config.automatic_mail_window_hours))
    kpi_repository = KpiRepository()
    kpis = KpiRecorder(kpi_repository, EmfMetrics())
    notifications = NotificationService(
        issues, mailer, directory, mail, support, message_ids, limit, clock=clock, kpis=kpis
    )
    classifier = ClassifierRepository()
    classification = ClassificationService(
        classifier, store, JobQueue(config.jobs_queue_name), config.classifier_threshold, clock=clock
    )
    intake = IntakeService(
        issues, issue_types, engine, config.email_issue_type, mail, classification, clock=clock, kpis=kpis
    )
    status_links = StatusLinks(link_secret, config.public_url, clock=clock)
    surveys = SurveyService(
        issues, SurveyRepository(), notifications, intake, link_secret, config.public_url, clock=clock, kpis=kpis
    )
    # The workflow side, in its parts (chalicelib/services/workflow)
    timeline = TaskTimeline(issues, clock=clock)
    task_links = TaskLinks(link_secret, config.public_url, clock=clock)
    holders = HolderNotifications(
        notifications,
        timeline,
        task_links,
        issues=issues,
        tasks=tasks,
        issue_types=issue_types,
        directory=directory,
        workspace_url=config.workspace_url or config.public_url,
    )
    customer_replies = CustomerReplies(issues, tasks, issue_types, holders, clock=clock)
    emails = CustomerEmails(
        issues=issues,
        tasks=tasks,
        issue_types=issue_types,
        notifications=notifications,
        timeline=timeline,
        status_links=status_links,
    )
    claims = Claims(
        issues=issues,
        tasks=tasks,
        issue_types=issue_types,
        timeline=timeline,
        holders=holders,
        groups=directory,
        access=access,
        clock=clock,
    )
    checkpoints = Checkpoints(
        issues=issues,
        tasks=tasks,
        issue_types=issue_types,
        timeline=timeline,
        holders=holders,
        emails=emails,
        kpis=kpis,
        clock=clock,
        claims=claims,
    )
    completions = Completions(
        issues=issues,
        tasks=tasks,
        issue_types=issue_types,
        engine=engine,
        timeline=timeline,
        links=task_links,
        access=access,
        kpis=kpis,
        clock=clock,
    )
    #: Resolved issues' vectors: written when the workflow resolves an issue, read by agents.
    encoder = SentenceEncoder() if encoder_available() else None
    similar_issues = SimilarIssues(issues, tasks, issue_types, access, SimilarVectorRepository(), encoder)
    stepping = Stepping(
        issues=issues,
        tasks=tasks,
        issue_types=issue_types,
        engine=engine,
        timeline=timeline,
        holders=holders,
        emails=emails,
        checkpoints=checkpoints,
        completions=completions,
        surveys=surveys,
        kpis=kpis,
        clock=clock,
        similar=similar_issues,
    )
    own_addresses = (config.sender_address, config.support_address)
    reopenings = ReopeningService(
        issues,
        stepping,
        intake,
        access,
        clock=clock,
        kpis=kpis,
        notifications=notifications,
        status_links=status_links,
    )
    issue_details = IssueDetailsService(issues, tasks, issue_types, access)
    search_index = IssueSearchRepository()
    resumption = Resumption(
        issues=issues,
        tasks=tasks,
        issue_types=issue_types,
        engine=engine,
        index=search_index,
        clock=clock,
    )
    articles = ArticleService(ArticleRepository(), issue_types, encoder, kpis, clock=clock)
    #: The report forms' limits, also those of asking for the "My issues" link (counted apart).
    form_limits = FormLimits(
        config.form_rate_per_address, config.form_rate_per_email, timedelta(minutes=config.form_rate_window_minutes)
    )
    return Services(
        config=config,
        link_secret=link_secret,
        issue_types=issue_types,
        intake=intake,
        stepping=stepping,
        completions=completions,
        queues=Queues(issues=issues, tasks=tasks, issue_types=issue_types, customers=search_index, clock=clock),
        claims=claims,
        checkpoints=checkpoints,
        task_links=task_links,
        issue_details=issue_details,
        issue_workspace=IssueWorkspace(issues, tasks, issue_types, access, issue_details, store),
        issue_search=IssueSearch(search_index, issues, tasks, issue_types, access),
        auth=AuthService(directory, verifier),
        two_step=TwoStepSignIn(directory),
        administration=AdministrationService(issue_types, issues, agent_groups),
        agent_groups=agent_groups,
        inbound_email=InboundEmailService(
            issues,
            mail,
            store,
            intake,
            completions,
            support,
            message_ids,
            own_addresses,
            clock,
            reopenings,
            replies=customer_replies,
        ),
        replies=ReplyService(issues, issue_types, notifications, store, access, clock=clock),
        notes=NoteService(issues, notifications, access, directory, clock=clock),
        classification=classification,
        classifier_training=ClassifierTrainingService(
            classifier,
            store,
            config.classifier_tuning,
            threshold=config.classifier_threshold,
            encoder_weights=_encoder_weights(config),
        ),
        status_links=status_links,
        status_pages=StatusPageService(
            issues,
            tasks,
            issue_types,
            completions,
            notifications,
            status_links,
            store,
            clock=clock,
            replies=customer_replies,
        ),
        surveys=surveys,
        issue_type_changes=IssueTypeChangeService(
            issues, issue_types, engine, stepping, intake, classification, access, clock=clock, kpis=kpis
        ),
        web_forms=WebFormService(
            issue_types,
            intake,
            status_links,
            RateLimitRepository(),
            link_secret,
            form_limits,
            clock=clock,
            articles=articles,
        ),
        customer_issues=CustomerIssuesService(
            issues,
            search_index,
            tasks,
            issue_types,
            status_links,
            LinkUseRepository(),
            RateLimitRepository(),
            mailer,
            mail,
            link_secret,
            config.public_url,
            form_limits,
            limit,
            clock=clock,
        ),
        outbox=outbox,
        articles=articles,
        ops_kpis=OpsKpiService(kpi_repository, issues, issue_types, clock=clock, sweep=checkpoints),
        reopenings=reopenings,
        similar_issues=similar_issues,
        resumption=resumption,
        migrations=Migrations(
            issues=issues, tasks=tasks, issue_types=issue_types, engine=engine, resumption=resumption, clock=clock
        ),
    )


def _encoder_weights(config: settings.Settings) -> Callable[[], Path] | None:
    """Where a function without the weights layer fetches the encoder's weights (decision 0041)."""
    if not (config.encoder_weights_bucket and config.encoder_weights_key):
        return None
    return lambda: weights_folder(config.encoder_weights_bucket, config.encoder_weights_key)
