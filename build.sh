gcc -O2 -g /tmp/prof/prof.c -I/work/wt/perf/include -L/work/wt/perf/build -lddpm_core -lopenblas -lcjson -lpng -lgif -lz -lm -lpthread -o /tmp/prof/prof
