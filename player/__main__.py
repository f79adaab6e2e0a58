from player.cli import main

raise SystemExit(main())
