"""`python -m shopify_bridge …` behaves exactly like the `shopify-bridge` console script."""

from shopify_bridge.cli.app import main

raise SystemExit(main())
