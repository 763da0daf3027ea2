"""`python -m shopify_bridge …` behaves exactly like the `shopify-bridge` console script."""

from shopify_bridge.cli.entry import main

raise SystemExit(main())
