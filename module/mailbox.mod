/work/main/module/main.o
/work/main/module/port.o
/work/main/module/pool.o
/work/main/module/names.o
/work/main/module/user.o
