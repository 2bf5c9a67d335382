"""How-to: the payment behind an invoice, many payments at once, and the other typed reads."""

import asyncio
from decimal import Decimal

from qvickly_async import AsyncQvickly, InvoiceStatus, Payment, PaymentPlan


async def payments_of_customer(client: AsyncQvickly, customer_number: str) -> list[Payment]:
    """Every invoice's payment: an invoice's number is its payment's number."""
    invoices = await client.get_invoices_by_customer(customer_number)
    results = await client.get_payment_infos([invoice.number for invoice in invoices])
    # One result per number, in input order; a failed lookup carries its typed error.
    return [result.unwrap() for result in results]


async def unpaid_total(client: AsyncQvickly, pno: str) -> Decimal:
    """What a person still owes on sent invoices, from getInvoicesByPno."""
    invoices = await client.get_invoices_by_pno(pno, statuses=("Sent",))
    return sum(
        (
            invoice.balance_due or Decimal(0)
            for invoice in invoices
            if invoice.status is InvoiceStatus.SENT
        ),
        Decimal(0),
    )


async def cheapest_plan(client: AsyncQvickly, amount: Decimal) -> PaymentPlan | None:
    """The part payment plan with the lowest monthly cost for ``amount`` (in kronor)."""
    plans = await client.get_payment_plans(total_with_tax=amount)
    priced = [plan for plan in plans if plan.monthly_cost is not None]
    return min(priced, key=lambda plan: plan.monthly_cost or Decimal(0), default=None)


async def main() -> None:
    async with AsyncQvickly.for_sandbox() as client:
        for payment in await payments_of_customer(client, "10001"):
            print(payment.number, payment.status, payment.total)
        account = await client.get_account_info()
        print("merchant:", account.company)
        assert client.sandbox is not None
        pno = client.sandbox.pno_of(10001)
        address = await client.get_address(pno)
        print("city:", address.city)
        print("owes:", await unpaid_total(client, pno))
        plan = await cheapest_plan(client, Decimal("1500.00"))
        if plan is not None:
            print("plan:", plan.description, plan.monthly_cost)
        checkout = await client.get_checkout(client.sandbox.checkout_url(10001000))
        if checkout.payment_data is not None and checkout.payment_data.order is not None:
            print("checkout order:", checkout.payment_data.order.number)


if __name__ == "__main__":
    asyncio.run(main())
