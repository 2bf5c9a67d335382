"""How-to: one AsyncQvickly per FastAPI app, handed to endpoints as a dependency.

Run it with ``uvicorn fastapi_app:app`` (credentials in the environment).
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from qvickly_async import AsyncQvickly, Invoice, QvicklyError, QvicklyInputError


def get_client(request: Request) -> AsyncQvickly:
    """Dependency: the app's one client, created by the lifespan."""
    client: AsyncQvickly = request.app.state.qvickly
    return client


Qvickly = Annotated[AsyncQvickly, Depends(get_client)]


def invoice_json(invoice: Invoice) -> dict[str, str | None]:
    """An invoice as JSON: money as a decimal string (never a float), dates in ISO 8601."""
    return {
        "number": invoice.number,
        "status": None if invoice.status is None else str(invoice.status),
        "to_pay": None if invoice.to_pay is None else str(invoice.to_pay),
        "due_date": None if invoice.due_date is None else invoice.due_date.isoformat(),
    }


def create_app(make_client: Callable[[], AsyncQvickly] = AsyncQvickly.from_env) -> FastAPI:
    """Build the app; ``make_client`` is called once, at startup, inside the event loop."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with make_client() as client:  # closed (connections and all) at shutdown
            app.state.qvickly = client
            yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health(client: Qvickly) -> JSONResponse:
        try:
            await client.with_options(deadline=5.0).ping()  # a cheap authenticated read
        except QvicklyError as error:
            body = {"status": "unavailable", "error": type(error).__name__}
            return JSONResponse(body, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/customers/{customer}/invoices")
    async def invoices(customer: str, client: Qvickly) -> list[dict[str, str | None]]:
        try:
            found = await client.get_invoices_by_customer(customer)
        except QvicklyInputError as error:  # refused before anything was sent
            raise HTTPException(status_code=400, detail=str(error)) from error
        return [invoice_json(invoice) for invoice in found]

    return app


app = create_app()


def main() -> None:
    import uvicorn

    uvicorn.run(app)


if __name__ == "__main__":
    main()
