cmd_/work/main/module/mailbox.o := ld -m elf_x86_64 -z noexecstack --no-warn-rwx-segments   -r -o /work/main/module/mailbox.o @/work/main/module/mailbox.mod 
