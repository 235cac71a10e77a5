// xsmq-lin: runs a Moddable `lin` app (the mc.so that mcconfig builds) without a display or GTK.
// It plays the host role of Moddable's desktop simulator: a txScreen whose start/stop/abort/post
// callbacks are driven by the GLib main loop that the lin timer, socket and Wi-Fi modules use.
// Built by `xsmq run` with: cc lin-host.c -I$MODDABLE/build/simulators/modules $(pkg-config --cflags --libs glib-2.0) -ldl
// Usage: xsmq-lin path/to/mc.so      trace goes to stdout (line-buffered); SIGINT/SIGTERM quit cleanly.
// Exit status: 0 after SIGINT/SIGTERM, 3 when XS aborts (what reboots a device), 4 when mc.so cannot be loaded.
#define mxLinux 1
#include <dlfcn.h>
#include <glib.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "screen.h"

#define WIDTH 240
#define HEIGHT 320

typedef void (*LaunchProc)(txScreen* screen);

static GMainLoop* gLoop;
static guint gIdleSource;
static int gStatus;

static gboolean onIdle(gpointer data)
{
	txScreen* screen = data;
	if (screen->idle) (*screen->idle)(screen);
	return G_SOURCE_CONTINUE;
}

// The app asks for idle calls (the simulator's screen.start); the interval is in ms.
static void onStart(txScreen* screen, double interval)
{
	if (!gIdleSource) gIdleSource = g_timeout_add(interval > 1 ? (guint)interval : 1, onIdle, screen);
}

static void onStop(txScreen* screen)
{
	(void)screen;
	if (gIdleSource) g_source_remove(gIdleSource);
	gIdleSource = 0;
}

// XS calls this from inside the machine (e.g. an unhandled exception): leave the loop, do not re-enter XS.
static void onAbort(txScreen* screen, int status)
{
	(void)screen;
	fprintf(stderr, "xsmq-lin: XS aborted (status %d)\n", status);
	gStatus = 3;
	g_main_loop_quit(gLoop);
}

static void onPost(txScreen* screen, char* message, int size)
{
	(void)screen;
	if (size == 0) fprintf(stderr, "xsmq-lin: message from the app: %s\n", message);
}

static void onChanged(txScreen* screen) { (void)screen; }

static gboolean onSignal(gpointer data)
{
	(void)data;
	g_main_loop_quit(gLoop);
	return G_SOURCE_REMOVE;
}

int main(int argc, char** argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s path/to/mc.so\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0); // trace() writes with printf: one line at a time through a pipe
	void* library = dlopen(argv[1], RTLD_NOW);
	if (!library) {
		fprintf(stderr, "xsmq-lin: %s\n", dlerror());
		return 4;
	}
	LaunchProc launch = (LaunchProc)dlsym(library, "fxScreenLaunch");
	if (!launch) {
		fprintf(stderr, "xsmq-lin: %s (not a Moddable lin app?)\n", dlerror());
		return 4;
	}
	txScreen* screen = calloc(1, sizeof(txScreen) - 1 + WIDTH * HEIGHT * screenBytesPerPixel);
	if (!screen) return 4;
	screen->abort = onAbort;
	screen->bufferChanged = onChanged;
	screen->formatChanged = onChanged;
	screen->post = onPost;
	screen->start = onStart;
	screen->stop = onStop;
	mxCreateMutex(&screen->workersMutex);
	screen->width = WIDTH;
	screen->height = HEIGHT;

	gLoop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGINT, onSignal, NULL);
	g_unix_signal_add(SIGTERM, onSignal, NULL);
	(*launch)(screen);
	if (!screen->machine) {
		fprintf(stderr, "xsmq-lin: the XS machine could not be created\n");
		return 4;
	}
	if (gStatus == 0) g_main_loop_run(gLoop);
	// No screen->quit: deleting the machine makes the SDK's lin timer module remove stale GLib sources
	// ("GLib-CRITICAL: Source ID ... was not found"); a device never tears down either.
	fflush(stdout);
	return gStatus;
}
