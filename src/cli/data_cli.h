/* Subcommands of `comeback data` that live in their own files. */
#ifndef COMEBACK_DATA_CLI_H
#define COMEBACK_DATA_CLI_H

/* `comeback data check SERIES|FILE ...`; argv[0] is "check". */
int data_check_run(int argc, char **argv);
/* Its help text (for `comeback help data` and `comeback data check --help`). */
extern const char help_data_check[];

/* `comeback data info SERIES`; argv[0] is "info" (cmd_data.c; the demo calls it too). */
int data_info_run(int argc, char **argv);

/* `comeback data download --exchange binance --pair P --timeframe TF --from DATE ...`;
 * argv[0] is "download" (data_download.c). */
int data_download_run(int argc, char **argv);
extern const char help_data_download[];

#endif
