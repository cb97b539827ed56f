"""Tornado handlers of the server extension, all behind Jupyter's own authentication.

GET  /tokenfactory/api/gateways                     every live gateway with its status
GET  /tokenfactory/api/gateways/<id>/<resource>     relay of health|models|batches|adapters
POST /tokenfactory/api/gateways/<id>/actions        {action, target}: a widget button that must
                                                    work while the kernel is busy (relay.ACTIONS)
GET  /tokenfactory/api/templates                    the notebook templates
POST /tokenfactory/api/notebooks                    {template, directory?, base_url?}
                                                    -> {path} of a new notebook
"""

from __future__ import annotations

import json
import posixpath

import httpx
import tornado.web
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import ensure_async, url_path_join

from .. import templates
from . import relay


class _Handler(APIHandler):
    def send_json(self, body: object, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def send_error_json(self, status: int, message: str, code: str) -> None:
        kind = "not_found" if status == 404 else "invalid_request"
        self.send_json({"error": {"message": message, "type": kind, "code": code}}, status)


class GatewaysHandler(_Handler):
    @tornado.web.authenticated
    async def get(self) -> None:
        self.send_json({"data": await relay.summaries()})


class GatewayResourceHandler(_Handler):
    @tornado.web.authenticated
    async def get(self, gid: str, resource: str) -> None:
        record = relay.find(gid)
        if record is None:
            self.send_error_json(404, f"No running gateway with id '{gid}'", "gateway_not_found")
            return
        async with httpx.AsyncClient(trust_env=False) as client:
            status, body = await relay.fetch(client, record, resource)
        self.send_json(body, status)


class GatewayActionHandler(_Handler):
    @tornado.web.authenticated
    async def post(self, gid: str) -> None:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            self.send_error_json(400, "The request body is not valid JSON", "invalid_json")
            return
        record = relay.find(gid)
        if record is None:
            self.send_error_json(404, f"No running gateway with id '{gid}'", "gateway_not_found")
            return
        action, target = str(body.get("action", "")), str(body.get("target", ""))
        async with httpx.AsyncClient(trust_env=False) as client:
            status, answer = await relay.act(client, record, action, target)
        self.send_json(answer, status)


class TemplatesHandler(_Handler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.send_json({"data": templates.catalog()})


class NotebooksHandler(_Handler):
    @tornado.web.authenticated
    async def post(self) -> None:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            self.send_error_json(400, "The request body is not valid JSON", "invalid_json")
            return
        name = str(body.get("template", ""))
        if name not in templates.TEMPLATES:
            known = ", ".join(sorted(templates.TEMPLATES))
            self.send_error_json(
                404, f"Unknown template '{name}' (known: {known})", "template_not_found"
            )
            return
        directory = str(body.get("directory") or "").strip("/")
        base_url = body.get("base_url") or None
        notebook = templates.render(name, base_url=base_url)
        cm = self.contents_manager
        if directory and not await ensure_async(cm.dir_exists(directory)):
            self.send_error_json(400, f"No directory '{directory}'", "directory_not_found")
            return
        path = await self._free_path(directory, templates.TEMPLATES[name].filename)
        model = {"type": "notebook", "format": "json", "content": notebook}
        await ensure_async(cm.save(model, path))
        self.send_json({"path": path}, 201)

    async def _free_path(self, directory: str, filename: str) -> str:
        stem, ext = posixpath.splitext(filename)
        for i in range(1000):
            candidate = f"{stem}{'' if i == 0 else f'-{i}'}{ext}"
            path = posixpath.join(directory, candidate) if directory else candidate
            if not await ensure_async(self.contents_manager.file_exists(path)):
                return path
        raise tornado.web.HTTPError(409, "Too many notebooks with this name")


def setup_handlers(web_app: tornado.web.Application) -> None:
    base = url_path_join(web_app.settings["base_url"], "tokenfactory", "api")
    resources = "|".join(relay.RESOURCES)
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "gateways"), GatewaysHandler),
            (
                url_path_join(base, "gateways", r"([0-9]+-[0-9]+)", f"({resources})"),
                GatewayResourceHandler,
            ),
            (url_path_join(base, "gateways", r"([0-9]+-[0-9]+)", "actions"), GatewayActionHandler),
            (url_path_join(base, "templates"), TemplatesHandler),
            (url_path_join(base, "notebooks"), NotebooksHandler),
        ],
    )
