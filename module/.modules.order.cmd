cmd_/work/main/module/modules.order := {   echo /work/main/module/mailbox.ko; :; } > /work/main/module/modules.order
