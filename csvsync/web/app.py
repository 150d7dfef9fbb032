"""The page's routes: collections, upload and plan, confirm, progress, results, history.

Every operation is the library's (``ops/``): a plan is ``plan --save-plan`` into the run's
folder, and confirming is ``sync --plan`` of that file, so the sync applies exactly the plan that
was shown or refuses with what moved. Long work runs off the event loop (a thread pool for the
plan, a thread per sync). Forms that change something carry a CSRF token and must come from the
page's own origin; responses carry a Content-Security-Policy without inline script. The Webflow
token stays in the server: no template is given it.
"""

from __future__ import annotations

import hmac
import re
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from csvsync.errors import CsvsyncError, PlanMovedError
from csvsync.mapping.mapping import load_mapping
from csvsync.ops import saved_plan
from csvsync.ops.revert import list_runs
from csvsync.options import RunOptions
from csvsync.outcomes import PROBLEMS, Outcome, summary_order
from csvsync.web.auth import COOKIE, Auth
from csvsync.web.config import WebConfig
from csvsync.web.guard import check_upload
from csvsync.web.runs import PageRun, Runs

PAGE = 50  # field changes per page of a plan
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def create_app(config: WebConfig) -> Starlette:
    """The page's ASGI app for ``config``."""
    page = _Page(config)
    routes = [
        Route("/login", page.login_page),
        Route("/login", page.login, methods=["POST"]),
        Route("/logout", page.logout, methods=["POST"]),
        Route("/", page.index),
        Route("/c/{name}", page.collection),
        Route("/c/{name}/export.xlsx", page.export),
        Route("/c/{name}/plan", page.plan, methods=["POST"]),
        Route("/c/{name}/p/{key}", page.plan_page),
        Route("/c/{name}/p/{key}/plan.xlsx", page.plan_workbook),
        Route("/c/{name}/p/{key}/confirm", page.confirm, methods=["POST"]),
        Route("/c/{name}/undo/{run_id}", page.undo_page),
        Route("/c/{name}/undo/{run_id}", page.undo, methods=["POST"]),
        Route("/c/{name}/r/{key}", page.run_page),
        Route("/c/{name}/r/{key}/stop", page.stop, methods=["POST"]),
        Route("/c/{name}/r/{key}/results.xlsx", page.results_workbook),
        Mount("/static", StaticFiles(packages=[("csvsync.web", "static")]), name="static"),
    ]
    middleware = [Middleware(_Headers)]
    if page.auth is not None:
        middleware.append(Middleware(_SignedIn, auth=page.auth))
    return Starlette(routes=routes, middleware=middleware)


class _SignedIn(BaseHTTPMiddleware):
    """Every page but the sign-in and the static files needs a signed-in session."""

    def __init__(self, app: Any, auth: Auth) -> None:
        super().__init__(app)
        self.auth = auth

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        path = request.url.path
        if path == "/login" or path.startswith("/static/"):
            return await call_next(request)
        user = self.auth.user(request.cookies.get(COOKIE))
        if user is None:
            if request.method != "GET":
                return HTMLResponse("Sign in first.", status_code=403)
            return RedirectResponse("/login", status_code=303)
        request.state.user = user
        return await call_next(request)


class _Headers(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        return response


class _Page:
    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.runs = Runs(config.data_dir, config.keep_runs)
        self.csrf = hmac.new(config.secret.encode(), b"csrf", "sha256").hexdigest()
        self.auth = (
            Auth(config.secret, dict(config.users), config.password,
                 secure=(config.public_url or "").startswith("https://"))
            if config.signs_in
            else None
        )  # fmt: skip
        self.env = Environment(
            loader=PackageLoader("csvsync.web", "templates"),
            autoescape=select_autoescape(["html"]),
        )

    # -- helpers -------------------------------------------------------------------------------
    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(
            csrf=self.csrf, signs_in=self.auth is not None, **context
        )
        return HTMLResponse(html, status_code=status)

    def mapping_path(self, name: str) -> Path:
        if not NAME.fullmatch(name):
            raise HTTPException(404)
        for suffix in (".yaml", ".yml"):
            path = self.config.mappings / f"{name}{suffix}"
            if path.is_file():
                return path
        raise HTTPException(404)

    def actor(self, request: Request) -> str:
        """Who the history says ran a page run: the signed-in name, else the server's user."""
        user = getattr(request.state, "user", None)
        if user is None:
            user = RunOptions(mapping=Path()).who()
        return f"{user} (page)"

    def options(self, mapping: Path, **more: Any) -> RunOptions:
        """A run's options for this mapping, with the token it names (else the server's)."""
        from csvsync.ops.context import token_for

        token = token_for(load_mapping(mapping), self.config.token)
        return RunOptions(mapping=mapping, api_base=self.config.api_base, token=token, **more)

    def run_options(self, request: Request, mapping: Path, run: PageRun) -> RunOptions:
        """A page run's options: its results workbook in its folder, its stop button, who."""
        return self.options(mapping, results=run.folder / "results.xlsx", stop=run.stop,
                            actor=self.actor(request))  # fmt: skip

    async def checked_form(self, request: Request) -> Any:
        """The form of a POST that changes something: same origin, CSRF token, size cap."""
        origin = request.headers.get("origin")
        allowed = {request.headers.get("host")}
        if self.config.public_url:
            allowed.add(urlsplit(self.config.public_url).netloc)
        if origin is not None and urlsplit(origin).netloc not in allowed:
            raise HTTPException(403, "this form must be sent from the page itself")
        size = int(request.headers.get("content-length") or 0)
        if size > self.config.max_upload:
            raise HTTPException(413, f"the upload is over {self.config.max_upload:,} bytes")
        form = await request.form(max_part_size=self.config.max_upload)
        token = str(form.get("csrf") or "")
        if not hmac.compare_digest(token, self.csrf):
            raise HTTPException(403, "the form is out of date: reload the page and try again")
        return form

    def page_run(self, name: str, key: str) -> PageRun:
        run = self.runs.get(key)
        if run is None or run.collection != name:
            raise HTTPException(404)
        return run

    # -- sign-in -------------------------------------------------------------------------------
    async def login_page(self, request: Request) -> HTMLResponse:
        return self.render("login.html", users=bool(self.auth and self.auth.users))

    async def login(self, request: Request) -> Response:
        if self.auth is None:
            return RedirectResponse("/", status_code=303)
        form = await self.checked_form(request)
        client = request.client.host if request.client else "?"
        if self.auth.locked_out(client):
            return self.render("login.html", 429, users=bool(self.auth.users),
                               error="Too many failed sign-ins: wait a minute.")  # fmt: skip
        cookie = self.auth.sign_in(client, str(form.get("name") or ""),
                                   str(form.get("password") or ""))  # fmt: skip
        if cookie is None:
            return self.render("login.html", 401, users=bool(self.auth.users),
                               error="That name and password do not match.")  # fmt: skip
        res = RedirectResponse("/", status_code=303)
        res.set_cookie(COOKIE, cookie, max_age=int(self.auth.ttl), httponly=True,
                       samesite="strict", secure=self.auth.secure)  # fmt: skip
        return res

    async def logout(self, request: Request) -> Response:
        await self.checked_form(request)
        res = RedirectResponse("/login", status_code=303)
        res.delete_cookie(COOKIE)
        return res

    # -- routes --------------------------------------------------------------------------------
    async def index(self, request: Request) -> HTMLResponse:
        cards = await run_in_threadpool(self._cards)
        return self.render("index.html", cards=cards)

    def _cards(self) -> list[dict[str, Any]]:
        from csvsync.ops.status import live_item_count, status

        cards = []
        paths = sorted(self.config.mappings.glob("*.y*ml")) if self.config.mappings.is_dir() else []
        for path in paths:
            card: dict[str, Any] = {"name": path.stem}
            try:
                m = load_mapping(path)
                options = self.options(path)
                st = status(options)
                if st.items is None:  # never pulled: one read for the count
                    st.items = live_item_count(options)
                card.update(site=m.site, collection=m.collection, locales=list(m.locales or {}),
                            last_run=st.last_run, problems=st.problems, lock=st.lock,
                            items=st.items)  # fmt: skip
            except CsvsyncError as exc:
                card["error"] = str(exc)
            cards.append(card)
        return cards

    async def collection(self, request: Request) -> HTMLResponse:
        name = request.path_params["name"]
        path = self.mapping_path(name)
        try:
            history = await run_in_threadpool(list_runs, self.options(path), 20)
        except CsvsyncError as exc:
            return self.render("error.html", 400, name=name, error=str(exc))
        busy = self.runs.busy(name)
        return self.render("collection.html", name=name, history=history, busy=busy)

    async def export(self, request: Request) -> Response:
        from csvsync.ops.export import export

        name = request.path_params["name"]
        path = self.mapping_path(name)
        out = self.config.data_dir / f"export-{name}-{time.strftime('%Y%m%dT%H%M%S')}.xlsx"
        try:
            await run_in_threadpool(export, self.options(path), out)
        except CsvsyncError as exc:
            return self.render("error.html", 400, name=name, error=str(exc))
        return FileResponse(out, filename=f"{name}.xlsx")

    async def plan(self, request: Request) -> Response:
        name = request.path_params["name"]
        path = self.mapping_path(name)
        form = await self.checked_form(request)
        upload = form.get("sheet")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return self.render("error.html", 400, name=name, error="choose a sheet to upload")
        data = await upload.read()
        target = str(form.get("target") or "live")
        if target not in ("live", "staged", "both"):
            raise HTTPException(400, "unknown target")
        # The page's Confirm, after the list of items to unpublish, is the CLI's --yes; the
        # floor (never more than half the collection, never from an empty sheet) still holds.
        unpublish = form.get("unpublish_missing") == "on"

        try:
            run = self.runs.new(name, upload.filename, data)
            mapping = load_mapping(path)
            await run_in_threadpool(
                check_upload, run.sheet, mapping.sheet, self.config.parse_memory
            )
            options = self.options(path, sheet=run.sheet, results=run.folder / "plan.xlsx",
                                   target=target, unpublish_missing=unpublish,
                                   yes=unpublish)  # fmt: skip
            run.plan_options = options
            run.plan_result = await run_in_threadpool(
                saved_plan.plan_and_save, options, run.plan_file
            )
        except CsvsyncError as exc:
            return self.render("error.html", 400, name=name, error=str(exc))
        return RedirectResponse(f"/c/{name}/p/{run.run_key}", status_code=303)

    async def plan_page(self, request: Request) -> HTMLResponse:
        name, key = request.path_params["name"], request.path_params["key"]
        run = self.page_run(name, key)
        result = run.plan_result
        q = request.query_params
        changes = result.report.changes
        for column in ("locale", "field", "outcome"):
            if q.get(column):
                changes = changes[changes[column].astype(str) == q[column]]
        page = max(1, int(q.get("page") or 1)) if (q.get("page") or "1").isdigit() else 1
        shown = changes.iloc[(page - 1) * PAGE : page * PAGE]
        rows = result.report.rows
        fix = rows[rows["outcome"].isin([str(p) for p in PROBLEMS])].head(200)
        going = rows[rows["outcome"] == str(Outcome.WOULD_UNPUBLISH)]
        all_changes = result.report.changes
        return self.render(
            "plan.html",
            name=name,
            run=run,
            result=result,
            counts=sorted(result.counts.items(), key=lambda kv: summary_order(kv[0])),
            fix=fix.to_dict("records"),
            unpublish=going.head(500).to_dict("records"),
            unpublish_total=len(going),
            changes=shown.to_dict("records"),
            total=len(changes),
            page=page,
            pages=max(1, -(-len(changes) // PAGE)),
            filters={c: q.get(c, "") for c in ("locale", "field", "outcome")},
            choices={
                c: sorted(all_changes[c].astype(str).unique())
                for c in ("locale", "field", "outcome")
            },
            would_send=sum(result.would_send.values()),
            target=saved_plan.load(run.plan_file)["options"]["target"],
        )

    async def plan_workbook(self, request: Request) -> Response:
        run = self.page_run(request.path_params["name"], request.path_params["key"])
        return _workbook(run.plan_result, f"{run.collection}.plan.xlsx")

    async def confirm(self, request: Request) -> Response:
        name, key = request.path_params["name"], request.path_params["key"]
        run = self.page_run(name, key)
        await self.checked_form(request)
        busy = self.runs.busy(name)
        if busy is not None and busy is not run:
            return self.render("busy.html", 409, name=name, busy=busy)
        if run.confirmable:
            path = self.mapping_path(name)
            try:
                options = self.run_options(request, path, run)
            except CsvsyncError as exc:
                return self.render("error.html", 400, name=name, error=str(exc))
            run.started = time.time()
            run.moved, run.progress, run.first_answer = [], (0, 0), None
            run.thread = threading.Thread(
                target=self._sync, args=(run, options), name=f"csvsync-page-{key}", daemon=True
            )
            run.thread.start()
        return RedirectResponse(f"/c/{name}/r/{key}", status_code=303)

    def _sync(self, run: PageRun, options: RunOptions) -> None:
        try:
            run.sync_result = saved_plan.sync_saved(
                replace(options), run.plan_file, run.on_progress
            )
        except PlanMovedError as exc:
            # Nothing was sent. The page shows the new plan of the same sheet, with what moved.
            try:
                run.plan_result = saved_plan.plan_and_save(run.plan_options, run.plan_file)
                run.moved = exc.moved
            except CsvsyncError as again:
                run.error = again
        except CsvsyncError as exc:
            run.error = exc

    async def undo_page(self, request: Request) -> HTMLResponse:
        """Undo a run: its dry run first (what goes back, what was edited since)."""
        from csvsync.ops.revert import revert

        name, run_id = request.path_params["name"], request.path_params["run_id"]
        path = self.mapping_path(name)
        if not re.fullmatch(r"[0-9TZ]{16}-[0-9a-f]{6}", run_id):
            raise HTTPException(404)
        try:
            result = await run_in_threadpool(
                lambda: revert(self.options(path, write_results=False), run_id, dry_run=True)
            )
        except CsvsyncError as exc:
            return self.render("error.html", 400, name=name, error=str(exc))
        changes = result.changes().head(200).to_dict("records")
        return self.render("undo.html", name=name, run_id=run_id, result=result,
                           counts=sorted(result.counts.items()), changes=changes)  # fmt: skip

    async def undo(self, request: Request) -> Response:
        from csvsync.ops.revert import revert

        name, run_id = request.path_params["name"], request.path_params["run_id"]
        path = self.mapping_path(name)
        await self.checked_form(request)
        if self.runs.busy(name) is not None:
            return self.render("busy.html", 409, name=name, busy=self.runs.busy(name))
        run = self.runs.new(name, "undo.csv", b"")
        try:
            options = self.run_options(request, path, run)
        except CsvsyncError as exc:
            return self.render("error.html", 400, name=name, error=str(exc))
        run.started = time.time()

        def work() -> None:
            try:
                run.sync_result = revert(options, run_id, progress=run.on_progress)
            except CsvsyncError as exc:
                run.error = exc

        run.thread = threading.Thread(target=work, name=f"csvsync-undo-{run_id}", daemon=True)
        run.thread.start()
        return RedirectResponse(f"/c/{name}/r/{run.run_key}", status_code=303)

    async def run_page(self, request: Request) -> Response:
        name, key = request.path_params["name"], request.path_params["key"]
        run = self.page_run(name, key)
        if run.confirmable and (run.moved or run.thread is None):
            # A plan that moved, or one not confirmed yet: its plan page is where to go.
            return RedirectResponse(f"/c/{name}/p/{key}", status_code=303)
        # Whether it runs, read before its result: a run that ends between the two reads is
        # then shown as running (the page refreshes), never as neither running nor done.
        running = run.running
        result = None if running else run.sync_result
        counts = (
            sorted(result.counts.items(), key=lambda kv: summary_order(kv[0])) if result else []
        )
        problems = []
        if result is not None:
            rows = result.rows() if callable(getattr(result, "rows", None)) else result.report.rows
            problems = rows[rows["outcome"].isin([str(p) for p in PROBLEMS])].head(200)
            problems = problems.to_dict("records")
        return self.render(
            "run.html", name=name, run=run, running=running, result=result, counts=counts,
            problems=problems, elapsed=time.time() - run.started if run.started else 0.0,
            refresh=2 if running else None,
        )  # fmt: skip

    async def stop(self, request: Request) -> Response:
        name, key = request.path_params["name"], request.path_params["key"]
        run = self.page_run(name, key)
        await self.checked_form(request)
        run.stop.set()
        return RedirectResponse(f"/c/{name}/r/{key}", status_code=303)

    async def results_workbook(self, request: Request) -> Response:
        run = self.page_run(request.path_params["name"], request.path_params["key"])
        return _workbook(run.sync_result, f"{run.collection}.results.xlsx")


def _workbook(result: Any, filename: str) -> FileResponse:
    """A run's results workbook as a download; 404 while there is none."""
    path = result.results_path if result is not None else None
    if path is None:
        raise HTTPException(404)
    return FileResponse(path, filename=filename)
