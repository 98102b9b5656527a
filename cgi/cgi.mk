# cgi/: the HTTP API's FastCGI programs, spawned by lighttpd (lighttpd.conf).
# Every *_main.c is one program; the other cgi/*.c form libcgi.a.
CGI_MAINS := $(wildcard cgi/*_main.c)
CGI_SRCS := $(filter-out $(CGI_MAINS),$(wildcard cgi/*.c))
CGI_OBJS := $(CGI_SRCS:%.c=$(O)/%.o)
LIBCGI := $(O)/libcgi.a
CGI_LIBS := -lfcgi -larchive -lqrencode -lcrypto
CGI_BINS := $(O)/bin/i2m-api.fcgi $(O)/bin/i2m-sse.fcgi $(O)/bin/i2m-upload.fcgi

$(LIBCGI): $(CGI_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(O)/bin/i2m-%.fcgi: $(O)/cgi/%_main.o $(LIBCGI) $(LIBSNIFF) $(LIBSPOOL)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CGI_LIBS) $(LIBS_BASE)

BINS += $(CGI_BINS)
