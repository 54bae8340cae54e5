from dagster_billing.local_stripe.server import main

main()
