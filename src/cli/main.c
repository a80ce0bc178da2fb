/* main.c: the `ddpm` executable; every subcommand lives in src/cli. */
#include "commands.h"

int main(int argc, char **argv)
{
    return ddpm_main(argc, argv);
}
