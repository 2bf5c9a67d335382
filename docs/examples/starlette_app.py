"""How-to: one AsyncQvickly per Starlette app, opened and closed by the app's lifespan.

Run it with ``uvicorn starlette_app:app`` (credentials in the environment). The exception
handler, logging and deadline of ``fastapi_app.py`` work unchanged here:
``Starlette(..., exception_handlers={QvicklyError: qvickly_error_handler})``.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from qvickly_async import AsyncQvickly, QvicklyError, QvicklyInputError


def create_app(make_client: Callable[[], AsyncQvickly] = AsyncQvickly.from_env) -> Starlette:
    """Build the app; ``make_client`` is called once, at startup, inside the event loop."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with make_client() as client:  # closed (connections and all) at shutdown
            app.state.qvickly = client
            yield

    async def health(request: Request) -> JSONResponse:
        client: AsyncQvickly = request.app.state.qvickly
        try:
            await client.with_options(deadline=5.0).ping()  # a cheap authenticated read
        except QvicklyError as error:
            body = {"status": "unavailable", "error": type(error).__name__}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ok"})

    async def invoices(request: Request) -> JSONResponse:
        client: AsyncQvickly = request.app.state.qvickly
        try:
            found = await client.get_invoices_by_customer(request.path_params["customer"])
        except QvicklyInputError as error:  # refused before anything was sent
            return JSONResponse({"error": str(error)}, status_code=400)
        return JSONResponse([invoice.to_dict() for invoice in found])

    routes = [Route("/health", health), Route("/customers/{customer}/invoices", invoices)]
    return Starlette(routes=routes, lifespan=lifespan)


app = create_app()


def main() -> None:
    import uvicorn

    uvicorn.run(app)


if __name__ == "__main__":
    main()
