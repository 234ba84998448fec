from handnet.cli import main

main(prog_name="handnet")
