from insightboards.cli import main

raise SystemExit(main())
