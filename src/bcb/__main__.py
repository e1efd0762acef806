from bcb.cli import main

main()
