"""The ``newsloom`` command: parse arguments, call ``service``, print. No business logic lives here."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console

from newsloom.errors import InputError, NewsloomError
from newsloom.settings import Settings, describe_settings, load_settings
from newsloom.stories.defaults import ORIGINALITY_DAYS

if TYPE_CHECKING:
    from rich.progress import Progress
    from rich.table import Table

    from newsloom.service import Service

# Start-up budget: `newsloom --help` and `newsloom add URL` must answer in well under a second, so this module
# imports only typer, rich's Console and the settings. Each command imports what it uses (the service layer,
# trafilatura, the story engine, the web app, Celery) inside its body; tests/test_cli_startup.py checks it.

app = typer.Typer(
    name="newsloom",
    help="Self-hosted news aggregator: one story per event, compared claim by claim.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True)
#: records named in a warning about implausible dates (the rest are counted)
_SHOWN_PROBLEMS = 5

T = TypeVar("T")


class State:
    config: str | None = None


def settings() -> Settings:
    return load_settings(State.config)


@app.callback()
def main_options(
    config: str | None = typer.Option(None, "--config", "-c", help="TOML settings file (else $NEWSLOOM_CONFIG)."),
) -> None:
    State.config = config


@contextmanager
def service() -> Iterator[Service]:
    from newsloom.service import Service

    svc = Service(settings())
    try:
        yield svc
    finally:
        svc.close()


def progress_bar() -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
        console=err,
        transient=False,
        disable=not err.is_terminal,
    )


def new_table(*columns: str, **options: Any) -> Table:
    from rich.table import Table

    return Table(*columns, **options)


def parse_since(value: str | None) -> datetime | None:
    """``--since`` takes an ISO date/time or a relative age like 6h, 2d, 30m."""
    if value is None:
        return None
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if value[:-1].isdigit() and value[-1:] in units:
        return datetime.now(UTC) - timedelta(**{units[value[-1]]: int(value[:-1])})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError(f"--since {value!r}: use an ISO date (2025-03-21) or an age like 6h or 2d") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def fmt_time(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


# -- setup and sources ----------------------------------------------------------------------------------------------


@app.command()
def init() -> None:
    """Create the data directory and the database (migrations run automatically)."""
    with service() as svc:
        url = svc.init()
    out.print(f"database ready: {url}")


@app.command()
def add(
    url: str,
    title: str | None = typer.Option(None, help="Name to show instead of the feed's title."),
    category: str | None = typer.Option(None, help="Category path, e.g. World/Europe."),
) -> None:
    """Subscribe to a feed, or a site's home page (its feed is found), or store one article page."""
    with service() as svc:
        result = svc.add(url, title=title, category=category)
    if result.article is not None and result.article.article is not None:
        a = result.article.article
        out.print(f"stored article {a.id}: {a.title or '(untitled)'}")
    elif result.source is not None:
        verb = "subscribed to" if result.created else "already subscribed to"
        out.print(f"{verb} source {result.source.id}: {result.source.title or ''} <{result.source.url}>")


@app.command()
def remove(source: str = typer.Argument(..., help="Source id or URL.")) -> None:
    """Unsubscribe from a source (its articles stay)."""
    with service() as svc:
        removed = svc.remove(source)
    out.print(f"removed source {removed.id} <{removed.url}>")


@app.command()
def sources(
    days: float = typer.Option(ORIGINALITY_DAYS, "--days", help="Originality window: articles of the last DAYS days."),
) -> None:
    """List sources with their health and originality (own reporting, wire copy, rewritten)."""
    with service() as svc:
        rows = svc.sources()
        shares = svc.originality(days=days)
    table = new_table("id", "title", "category", "health", "last success", "next poll", "last error")
    for s in rows:
        health = "ok" if not s.error_count else f"{s.error_count} failure{'s' if s.error_count > 1 else ''}"
        if s.last_success_at is None and not s.error_count:
            health = "new"
        table.add_row(
            str(s.id), s.title or s.url, s.category or "", health, fmt_time(s.last_success_at),
            fmt_time(s.next_poll_at), (s.last_error or "")[:60],
        )
    out.print(table)
    out.print(f"{len(rows)} sources")
    originality = new_table("id", "title", "articles", "own", "wire", "rewritten", "wires", title=f"originality, last {days:g} days")
    for s in rows:
        share = shares.get(s.id)
        if share is None:
            originality.add_row(str(s.id), s.title or s.url, "0", "-", "-", "-", "")
            continue
        originality.add_row(
            str(s.id), s.title or s.url, str(share.total), f"{share.share('own'):.0%}", f"{share.share('wire'):.0%}",
            f"{share.share('rewrite'):.0%}", ", ".join(f"{name} {n}" for name, n in share.wires),
        )
    out.print(originality)


@app.command("import-opml")
def import_opml(path: Path) -> None:
    """Subscribe to every feed of an OPML file (categories kept)."""
    with service() as svc:
        added, existing = svc.import_opml(path)
    out.print(f"{added} sources added, {existing} already there")


@app.command("export-opml")
def export_opml(output: Path | None = typer.Option(None, "--output", "-o", help="File to write (else stdout).")) -> None:
    """Write the subscriptions as OPML."""
    with service() as svc:
        data = svc.export_opml()
    if output:
        output.write_bytes(data)
    else:
        sys.stdout.write(data.decode("utf-8"))


# -- polling and ingest ---------------------------------------------------------------------------------------------


def background_priority(svc: Service) -> None:
    """Ingestion yields the CPU to the web server (the ``ingest_nice`` setting; see newsloom/priority.py).
    Called once where a command or thread starts ingesting (the lowering is relative, like ``nice``)."""
    from newsloom.priority import lower_priority

    lower_priority(svc.settings.ingest_nice)


def poll_with_progress(svc: Service, *, all_sources: bool) -> list[Any]:
    background_priority(svc)  # before the parse processes are forked: they inherit it
    with progress_bar() as bar:
        task = bar.add_task("polling", total=0, note="")

        def started(total: int) -> None:
            bar.update(task, total=total)

        def advanced(outcome: Any) -> None:
            note = outcome.source.title or outcome.source.url
            bar.update(task, advance=1, note=note[:40])

        return svc.update(all_sources=all_sources, on_start=started, progress=advanced)


@app.command()
def update(all_sources: bool = typer.Option(False, "--all", help="Poll every source, due or not.")) -> None:
    """Poll the sources that are due (or all of them)."""
    with service() as svc:
        outcomes = poll_with_progress(svc, all_sources=all_sources)
    if svc.settings.queue_url:
        out.print("due sources queued")
        return
    errors = [o for o in outcomes if o.status == "error"]
    new = sum(o.new_articles for o in outcomes)
    not_modified = sum(o.status == "not-modified" for o in outcomes)
    for o in errors:
        err.print(f"[yellow]{o.source.url}[/]: {o.error}")
    out.print(
        f"polled {len(outcomes)} sources: {new} new articles, {not_modified} not modified, {len(errors)} failed"
    )


@app.command()
def ingest(paths: list[str] = typer.Argument(..., help="Files (.html .htm .txt .xml .rss .atom .json) or folders.")) -> None:
    """Store articles from local files and folders."""
    with service() as svc:
        background_priority(svc)
        total = svc.count_files(paths)
        with progress_bar() as bar:
            task = bar.add_task("ingesting", total=total, note="")
            last: list[str] = []

            def advanced(doc: Any) -> None:
                if not last or last[-1] != str(doc.path):
                    bar.update(task, advance=1, note=doc.path.name[:40])
                    last[:] = [str(doc.path)]

            report = svc.ingest_paths(paths, progress=advanced)
    for path, reason in report.skipped:
        err.print(f"[yellow]{path}[/]: {reason}")
    for result in report.stored:
        a = result.article
        if a is not None:
            copy = f" (copy of {a.original_id})" if a.original_id else ""
            out.print(f"stored {a.id}: {a.title or a.text[:60].replace(chr(10), ' ') + '…'}{copy} -> story {result.story_id}")
    if report.queued:
        out.print(f"{report.queued} files queued")
        return
    out.print(f"{len(report.stored)} stored, {len(report.unchanged)} already stored, {len(report.skipped)} skipped")
    if report.skipped and not report.stored and not report.unchanged:
        raise typer.Exit(1)


@app.command()
def articles(
    source: str | None = typer.Option(None, "--source", help="Source id or URL."),
    since: str | None = typer.Option(None, "--since", help="ISO date or age (6h, 2d)."),
    limit: int = typer.Option(50, min=1, max=10_000),
    as_json: bool = typer.Option(False, "--json", help="JSON Lines instead of a table."),
) -> None:
    """List stored articles, newest first."""
    with service() as svc:
        rows = svc.articles(source=source, since=parse_since(since), limit=limit)
    if as_json:
        for a in rows:
            out.print_json(json.dumps(article_summary(a)), indent=None)
        return
    table = new_table("id", "published", "publisher", "title", "story")
    for a in rows:
        table.add_row(str(a.id), fmt_time(a.published_at or a.fetched_at), a.publisher or "", a.title or "(untitled)", a.story_id or "")
    out.print(table)


def article_summary(a: Any) -> dict[str, Any]:
    return {
        "id": a.id,
        "url": a.url,
        "canonical_url": a.canonical_url,
        "title": a.title,
        "author": a.author,
        "publisher": a.publisher,
        "published": a.published_at.isoformat() if a.published_at else None,
        "fetched": a.fetched_at.isoformat() if a.fetched_at else None,
        "language": a.language,
        "story_id": a.story_id,
        "original_id": a.original_id,
        "content_hash": a.content_hash,
    }


@app.command()
def show(article_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Show one article."""
    with service() as svc:
        a = svc.article(article_id)
        delivered = svc.article_sources(article_id)
    data = article_summary(a) | {"text": a.text, "captions": list(a.captions), "sources": [s.url for s in delivered]}
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    out.print(f"[bold]{a.title or '(untitled)'}[/]")
    meta = [x for x in (a.publisher, a.author, fmt_time(a.published_at) if a.published_at else None) if x]
    out.print(" · ".join(meta))
    if a.original_id:
        out.print(f"syndicated copy of article {a.original_id}")
    out.print(f"story {a.story_id or '-'} · {a.url or a.canonical_url}\n")
    out.print(a.text)


# -- database-free commands -----------------------------------------------------------------------------------------


@app.command()
def extract(target: str = typer.Argument(..., help="File, folder or URL.")) -> None:
    """Extract clean article text and metadata as JSON (JSON Lines for a folder). Needs no database."""
    from newsloom.service import extract_target

    items = list(extract_target(target, settings()))
    if Path(target).is_dir():
        for item in items:
            sys.stdout.write(json.dumps(item, ensure_ascii=False) + "\n")
    elif items:
        sys.stdout.write(json.dumps(items[0], ensure_ascii=False, indent=2) + "\n")
        if "error" in items[0]:
            raise typer.Exit(1)


@app.command()
def cluster(
    path: Path = typer.Argument(..., help="JSON Lines: id, title, text, optional date and source."),
    unordered: bool = typer.Option(
        False,
        "--unordered",
        help="Undated records are in no time order (a shuffled archive): do not read the file order as a clock.",
    ),
) -> None:
    """Group articles into stories, online; prints one `id<TAB>story_id` line per article. Needs no database.

    Dated records are taken in date order, undated ones where the file puts them: the file order is read as publication order unless --unordered says it is not."""
    from newsloom.service import read_jsonl
    from newsloom.stories.cluster import cluster_file
    from newsloom.stories.storymodel import EngineConfig

    records = read_jsonl(path)
    config = EngineConfig().without_arrival_order() if unordered else EngineConfig()
    placed, problems = cluster_file(records, config, now=datetime.now(UTC))
    for article_id, story_id in placed:
        sys.stdout.write(f"{article_id}\t{story_id}\n")
    if problems:
        shown = ", ".join(f"{p.id} ({p.date.date().isoformat()}, {p.reason})" for p in problems[:_SHOWN_PROBLEMS])
        more = f" and {len(problems) - _SHOWN_PROBLEMS} more" if len(problems) > _SHOWN_PROBLEMS else ""
        err.print(
            f"warning: {len(problems)} record(s) with an implausible date were clustered as undated "
            f"(placed where the file puts them): {shown}{more}",
            markup=False,
            highlight=False,
        )


@app.command()
def compare(
    targets: list[str] = typer.Argument(..., help="Files, folders or URLs of articles reporting one event."),
    fmt: str = typer.Option("json", "--format", help="json or text."),
) -> None:
    """Compare coverage claim by claim: agreed, only in one outlet, differing. Needs no database."""
    from newsloom.service import compare_inputs, load_compare_inputs
    from newsloom.stories.compare import compare_articles, comparison_to_dict, render_comparison_text

    if fmt not in {"json", "text"}:
        raise InputError("--format must be json or text")
    extracted = load_compare_inputs(targets, settings())
    comparison = compare_articles(compare_inputs(extracted))
    if fmt == "json":
        sys.stdout.write(json.dumps(comparison_to_dict(comparison), ensure_ascii=False, indent=2) + "\n")
    else:
        out.print(render_comparison_text(comparison), markup=False, highlight=False)


@app.command()
def stories(limit: int = typer.Option(30, min=1, max=10_000)) -> None:
    """List stored stories with their counts."""
    with service() as svc:
        rows = svc.stories(limit=limit)
    table = new_table("story", "articles", "outlets", "original", "copies", "last seen", "headline")
    for s in rows:
        table.add_row(
            s.id, str(s.article_count), str(s.outlet_count), str(s.original_count), str(s.syndicated_count),
            fmt_time(s.last_seen), s.headline,
        )
    out.print(table)


@app.command()
def worker(
    concurrency: int = typer.Option(2, min=1, help="Tasks run at once by this worker process."),
    queues: str | None = typer.Option(None, help="Comma-separated queues to consume (default: all)."),
) -> None:
    """Run a task-queue worker (needs NEWSLOOM_QUEUE_URL and newsloom[queue])."""
    from newsloom.workers import require_queue_extra

    require_queue_extra()
    from newsloom.workers.runner import run_worker

    run_worker(settings(), concurrency=concurrency, queues=queues.split(",") if queues else None)


@app.command()
def scheduler() -> None:
    """Enqueue due sources periodically (needs NEWSLOOM_QUEUE_URL and newsloom[queue]); run one per deployment."""
    from newsloom.workers import require_queue_extra

    require_queue_extra()
    from newsloom.workers.runner import run_scheduler

    run_scheduler(settings())


@app.command("config")
def show_config() -> None:
    """Print every setting as TOML with its current value, its environment variable and what it does."""
    current = settings()
    for name, _default, help_text in describe_settings():
        sys.stdout.write(f"# {help_text} (env NEWSLOOM_{name.upper()})\n{name} = {toml_value(getattr(current, name))}\n\n")


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


WORKERS_HELP = "Web server processes (else the web_workers setting; 0 one per core, at most 8)."


@app.command()
def run(
    once: bool = typer.Option(False, "--once", help="Poll once and exit instead of running continuously."),
    host: str | None = typer.Option(None, help="Address the reader binds (else the host setting)."),
    port: int | None = typer.Option(None, help="Port the reader listens on (else the port setting)."),
    workers: int | None = typer.Option(None, min=0, help=WORKERS_HELP),
) -> None:
    """Initialise, subscribe the default sources on first run, then serve the reader while polling in the background."""
    with service() as svc:
        out.print(f"database: {svc.init()}")
        added = svc.subscribe_defaults_once()
        if added:
            out.print(f"subscribed to {added} default sources")
        if once:
            report_poll(poll_with_progress(svc, all_sources=False))
            return
    import threading

    from newsloom.web.server import serve as serve_reader
    from newsloom.web.server import worker_count

    config = settings()
    stop = threading.Event()

    pollers: list[threading.Thread] = []

    def start_background(svc: Service | None) -> None:
        pollers.append(threading.Thread(target=poll_forever, args=(stop, svc), name="newsloom-poller", daemon=True))
        pollers[0].start()
        threading.Thread(target=notify_forever, args=(stop,), name="newsloom-notifier", daemon=True).start()

    # One web process (the default of ``run``): one Service for the reader and the poller, so one story engine
    # (intake) for pushed and polled articles; with one each, a pushed and a polled report of one event met
    # different indexes and opened two stories. Several web processes (``--workers N``) each cluster the pushes
    # they answer with their own engine, and the poller has its own (docs/deploy.md).
    if worker_count(RUN_WEB_WORKERS if workers is None else workers) == 1:
        from newsloom.web.app import build_reader

        reader = build_reader(config)
        try:
            serve_reader(config, host=host, port=port, reader=reader, on_started=lambda: start_background(reader.service))
        finally:
            stop.set()
            if pollers and pollers[0].is_alive():  # a poll in progress ends before its database is closed
                pollers[0].join(timeout=RUN_STOP_WAIT_S)
            reader.service.close()
        return
    start_background(None)
    try:
        serve_reader(config, host=host, port=port, workers=workers, config_file=State.config)
    finally:
        stop.set()


def report_poll(outcomes: list[Any]) -> None:
    if outcomes:
        new = sum(o.new_articles for o in outcomes)
        failed = sum(o.status == "error" for o in outcomes)
        out.print(f"{datetime.now(UTC):%H:%M:%S} polled {len(outcomes)} sources: {new} new, {failed} failed")


# On Ctrl-C, ``run`` waits this long for a poll in progress to end before closing the database under it.
RUN_STOP_WAIT_S = 10.0
# ``newsloom run`` serves from one process unless asked for more: one story engine for polled and pushed articles.
RUN_WEB_WORKERS = 1


def poll_forever(stop: Any, shared: Service | None) -> None:
    """The background poller of ``run``: on the reader's Service when there is one web process (its intake, one
    story engine, is shared with WebSub pushes, each poll's write transactions taking the Service's
    ``intake_lock``), else on a Service of its own."""
    if shared is None:
        with service() as svc:
            _poll_until(stop, svc)
    else:
        _poll_until(stop, shared)


def _poll_until(stop: Any, svc: Service) -> None:
    background_priority(svc)  # this thread only: the server's threads keep their priority
    while not stop.is_set():
        try:
            report_poll(svc.update())
        except NewsloomError as exc:  # a failing database must not kill the poller; say so and retry
            err.print(f"[red]polling failed:[/] {exc}", markup=True, highlight=False)
        stop.wait(poll_pause(svc))


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to bind (else the host setting, 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port to listen on (else the port setting, 8000)."),
    workers: int | None = typer.Option(None, min=0, help=WORKERS_HELP),
) -> None:
    """Serve the web reader, its JSON API (/api/v1) and Atom feeds, without polling."""
    from newsloom.web.server import serve as serve_reader

    serve_reader(settings(), host=host, port=port, workers=workers, config_file=State.config)


@app.command()
def createadmin(
    username: str = typer.Argument(..., help="Login name of the admin (created, or promoted if it exists)."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, envvar="NEWSLOOM_ADMIN_PASSWORD",
        help="Password (prompted when not given; or $NEWSLOOM_ADMIN_PASSWORD).",
    ),
) -> None:
    """Create the first admin account (or make an existing user an admin with this password)."""
    from newsloom.web.app import build_reader

    reader = build_reader(settings())
    try:
        user = reader.create_admin(username, password)
    finally:
        reader.service.close()
    out.print(f"admin {user.username} ready (user id {user.id})")


@app.command("api-password")
def api_password(
    username: str = typer.Argument(..., help="The reader whose API password to set."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, envvar="NEWSLOOM_API_PASSWORD",
        help="API password (prompted when not given; or $NEWSLOOM_API_PASSWORD). Apart from the sign-in password.",
    ),
) -> None:
    """Set a reader's API password, which apps (Google Reader API, Fever API) sign in with; signs apps out."""
    from newsloom.apps_service import AppService
    from newsloom.web.app import build_reader

    reader = build_reader(settings())
    try:
        user = AppService(reader).set_api_password_for(username, password)
    finally:
        reader.service.close()
    out.print(f"API password of {user.username} set; apps sign in with it (earlier app sign-ins revoked)")


@contextmanager
def notifier() -> Iterator[Any]:
    from newsloom.notify_service import NotifyService
    from newsloom.web.app import build_reader

    reader = build_reader(settings())
    try:
        yield NotifyService(reader)
    finally:
        reader.service.close()


def report_delivery(report: Any) -> None:
    for line in report.errors:
        err.print(f"[red]failed:[/] {line}", markup=True, highlight=False)
    out.print(f"{datetime.now(UTC):%H:%M:%S} notifications: {report.sent} sent, {report.retrying} to retry, "
              f"{report.failed} failed for good")  # fmt: skip


@app.command()
def notify(
    dry_run: bool = typer.Option(False, "--dry-run", help="Print what would be sent; send nothing."),
    watch: bool = typer.Option(False, "--watch", help="Keep delivering every notify_interval_s (a notifier process)."),
) -> None:
    """Deliver pending notifications (e-mail, webhooks) and due digests, once or continuously."""
    import time

    with notifier() as notes:
        if dry_run:
            lines = notes.dry_run()
            for line in lines:
                typer.echo(f"{line.channel}\t{line.destination}\t{line.key}\t{line.title}")  # tab-separated, for scripts
            for due in notes.due_digests():
                typer.echo(f"digest\t{due.email}\t{due.digest}\treader {due.user_id}")
            out.print(f"{len(lines)} notifications would be sent", markup=False)
            return
        while True:
            report = notes.run_once()
            if report.sent or report.retrying or report.failed or not watch:
                report_delivery(report)
            if not watch:
                return
            time.sleep(notes.settings.notify_interval_s)


@app.command()
def digest(
    to: str = typer.Option(..., "--to", help="Address to send the digest to."),
    now: bool = typer.Option(False, "--now", help="Send it at once (required: scheduled digests need no command)."),
) -> None:
    """Send one digest of the current top stories to ADDRESS at once, to check the SMTP set-up."""
    if not now:
        raise InputError("digest sends only with --now (scheduled digests are sent by `newsloom notify --watch`, `run` or, in queue mode, `worker`)")
    with notifier() as notes:
        sent = notes.send_digest_now(to)
    out.print(f"sent “{sent.subject}” to {to}", markup=False, highlight=False)


def notify_forever(stop: Any) -> None:
    """The background notifier of ``run``: delivers the outbox and due digests every ``notify_interval_s``."""
    with notifier() as notes:
        while not stop.is_set():
            try:
                report = notes.run_once()
                if report.sent or report.errors:
                    report_delivery(report)
            except NewsloomError as exc:
                err.print(f"[red]notifying failed:[/] {exc}", markup=True, highlight=False)
            stop.wait(notes.settings.notify_interval_s)


def poll_pause(svc: Service) -> float:
    """Seconds until the next source is due, between 30 s (or the shortest poll interval, when shorter) and
    5 min so new subscriptions are picked up."""
    due = [s.next_poll_at for s in svc.sources() if s.next_poll_at is not None]
    if not due:
        return 60.0
    floor = min(30.0, float(svc.settings.min_poll_interval_s))
    return max(floor, min(300.0, (min(due) - datetime.now(UTC)).total_seconds()))


def guarded(func: Callable[[], T]) -> T:
    try:
        return func()
    except NewsloomError as exc:
        from rich.markup import escape

        # escaped: messages hold brackets ("install newsloom[queue]") that rich would read as markup;
        # soft_wrap keeps a message on one line that can be searched for
        err.print(f"[red]error:[/] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise SystemExit(130) from None


def main() -> None:
    guarded(lambda: app(standalone_mode=True))


if __name__ == "__main__":
    main()
