from cnncost.cli import main

main()
