cmd_/work/main/module/mailbox.mod := printf '%s\n'   main.o port.o pool.o names.o user.o | awk '!x[$$0]++ { print("/work/main/module/"$$0) }' > /work/main/module/mailbox.mod
