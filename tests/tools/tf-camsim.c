/* tf-camsim: a simulated camera for the demo, the tests and the benchmarks.
 *
 * It connects to a receiver (normally tcpframesrc) and streams GRAY8 frames
 * whose every byte follows from (x, y, sequence), so whoever receives them
 * can check each byte without a reference copy.  A short script drives the
 * misbehaviours a real camera shows and the element must survive: a reboot
 * that leaves the old connection open and silent, a stall mid-stream, a
 * departure mid-frame and a reconnect from the same source port.
 */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <gio/gio.h>

#include "tf-framer.h"

#define CONNECT_RETRY_USEC (5 * G_USEC_PER_SEC)
#define CONNECT_RETRY_INTERVAL_USEC (100 * 1000)
/* Far above any camera resolution; only guards against typos in --width. */
#define MAX_PAYLOAD_SIZE (G_GUINT64_CONSTANT (1) << 30)
#define DEFAULT_SCRIPT "connect,stream:150,close"

typedef enum
{
  STEP_CONNECT,
  STEP_CONNECT_SAME_PORT,
  STEP_STREAM,
  STEP_SILENT,
  STEP_WAIT_RESET,
  STEP_CLOSE,
  STEP_RESET,
  STEP_PARTIAL,
} StepKind;

typedef struct
{
  const gchar *name;
  StepKind kind;
  gboolean has_arg;
  gboolean needs_conn;
} StepDesc;

static const StepDesc step_descs[] = {
  {"connect", STEP_CONNECT, FALSE, FALSE},
  {"connect-same-port", STEP_CONNECT_SAME_PORT, FALSE, FALSE},
  {"stream", STEP_STREAM, TRUE, TRUE},
  {"silent", STEP_SILENT, TRUE, FALSE},
  {"wait-reset", STEP_WAIT_RESET, TRUE, TRUE},
  {"close", STEP_CLOSE, FALSE, TRUE},
  {"reset", STEP_RESET, FALSE, TRUE},
  {"partial", STEP_PARTIAL, TRUE, TRUE},
};

typedef struct
{
  const StepDesc *desc;
  guint64 arg;
} Step;

typedef struct
{
  const gchar *nick;
  gint value;
} Nick;

static const Nick framing_nicks[] = {
  {"header", TF_FRAMING_HEADER},
  {"raw", TF_FRAMING_RAW},
  {"length", TF_FRAMING_LENGTH},
};

static const Nick length_format_nicks[] = {
  {"u16be", TF_LENGTH_FORMAT_U16BE},
  {"u16le", TF_LENGTH_FORMAT_U16LE},
  {"u32be", TF_LENGTH_FORMAT_U32BE},
  {"u32le", TF_LENGTH_FORMAT_U32LE},
  {"u64be", TF_LENGTH_FORMAT_U64BE},
  {"u64le", TF_LENGTH_FORMAT_U64LE},
};

typedef struct
{
  /* options */
  gchar *host;
  guint16 port;
  TfFraming framing;
  TfLengthFormat length_format;
  guint width;
  guint height;
  guint fps;
  gboolean quiet;

  GList *addresses;             /* GInetAddress, resolved once at start */

  /* The connection steps act on.  `broken` is set once a write failed and
   * `ended_us` once a wait saw the receiver end it: either way the receiver
   * is gone, but the socket stays until a step closes it, so the script's
   * later steps can still report on it. */
  GSocket *conn;
  gboolean broken;
  gchar *broken_msg;
  gint64 ended_us;
  gboolean ended_by_rst;
  guint32 seq;
  gboolean caps_sent;
  gint64 last_write_us;

  /* Where the last connection came from, for connect-same-port. */
  GInetAddress *local_addr;
  guint16 local_port;

  /* Connections a `connect` left behind: open, never written again. */
  GPtrArray *stale;

  gchar *caps;
  gsize payload_size;
  /* One frame on the wire: room for the largest prefix, then the payload,
   * so a whole frame goes out in a single send whatever the framing. */
  guint8 *wire;
  gsize prefix_room;
  /* Row y of frame s is ramp[(y + 4 * s) & 0xff ...], a window of this. */
  guint8 *ramp;
} CamSim;

/* A macro, so the formats are checked against g_strdup_printf()'s. */
#define say(cs, ...) G_STMT_START {                     \
    if (!(cs)->quiet) {                                 \
      gchar *say_msg_ = g_strdup_printf (__VA_ARGS__);  \
      g_print ("camsim: %s\n", say_msg_);               \
      g_free (say_msg_);                                \
    }                                                   \
  } G_STMT_END

static gboolean
parse_nick (const Nick * nicks, guint n_nicks, const gchar * what,
    const gchar * str, gint * value, GError ** error)
{
  GString *valid;
  guint i;

  for (i = 0; i < n_nicks; i++) {
    if (g_strcmp0 (nicks[i].nick, str) == 0) {
      *value = nicks[i].value;
      return TRUE;
    }
  }
  valid = g_string_new (NULL);
  for (i = 0; i < n_nicks; i++)
    g_string_append_printf (valid, "%s%s", i ? ", " : "", nicks[i].nick);
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
      "unknown %s '%s' (expected one of: %s)", what, str, valid->str);
  g_string_free (valid, TRUE);
  return FALSE;
}

static gchar *
format_address (GInetAddress * addr, guint16 port)
{
  gchar *str = g_inet_address_to_string (addr);
  gchar *res;

  if (g_inet_address_get_family (addr) == G_SOCKET_FAMILY_IPV6)
    res = g_strdup_printf ("[%s]:%u", str, port);
  else
    res = g_strdup_printf ("%s:%u", str, port);
  g_free (str);
  return res;
}

/* Checks the whole script before anything connects, so a typo fails fast
 * with exit 1 instead of half-way through a test. */
static GArray *
parse_script (const gchar * script, GError ** error)
{
  GArray *steps = g_array_new (FALSE, FALSE, sizeof (Step));
  gchar **tokens = g_strsplit (script, ",", -1);
  gboolean have_conn = FALSE, ever_connected = FALSE;
  guint i, j;

  for (i = 0; tokens[i] != NULL; i++) {
    gchar *tok = g_strstrip (tokens[i]);
    gchar *colon = strchr (tok, ':');
    const StepDesc *desc = NULL;
    Step step = { NULL, 0 };

    if (colon)
      *colon = '\0';
    for (j = 0; j < G_N_ELEMENTS (step_descs); j++) {
      if (strcmp (step_descs[j].name, tok) == 0)
        desc = &step_descs[j];
    }
    if (desc == NULL) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--script step %u: unknown step '%s'", i + 1, tok);
      goto fail;
    }
    if (desc->has_arg != (colon != NULL)) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--script step %u: '%s' %s", i + 1, tok,
          desc->has_arg ? "needs a number, as in stream:150" :
          "takes no argument");
      goto fail;
    }
    if (colon && !g_ascii_string_to_unsigned (colon + 1, 10, 0,
            G_MAXUINT32, &step.arg, NULL)) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--script step %u: '%s' needs a number, not '%s'", i + 1, tok,
          colon + 1);
      goto fail;
    }
    if (desc->needs_conn && !have_conn) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--script step %u: '%s' needs an open connection; put a connect "
          "before it", i + 1, tok);
      goto fail;
    }
    if (desc->kind == STEP_CONNECT_SAME_PORT && (!ever_connected || have_conn)) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--script step %u: connect-same-port needs an earlier connection "
          "that was closed (wait-reset, close or reset) before it", i + 1);
      goto fail;
    }
    switch (desc->kind) {
      case STEP_CONNECT:
      case STEP_CONNECT_SAME_PORT:
        have_conn = ever_connected = TRUE;
        break;
      case STEP_WAIT_RESET:
      case STEP_CLOSE:
      case STEP_RESET:
        have_conn = FALSE;
        break;
      default:
        break;
    }
    step.desc = desc;
    g_array_append_val (steps, step);
  }
  if (steps->len == 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--script is empty");
    goto fail;
  }
  g_strfreev (tokens);
  return steps;

fail:
  g_strfreev (tokens);
  g_array_unref (steps);
  return NULL;
}

static void
fill_ramp (CamSim * cs)
{
  gsize i, len = (gsize) cs->width + 256;

  cs->ramp = g_malloc (len);
  for (i = 0; i < len; i++)
    cs->ramp[i] = i & 0xff;
}

/* Lays the next frame out in cs->wire and returns where it starts. */
static const guint8 *
build_frame (CamSim * cs, gsize * total)
{
  guint8 *payload = cs->wire + cs->prefix_room;
  guint8 *start = payload;
  guint64 timestamp = (guint64) g_get_real_time () * 1000;
  guint y;

  for (y = 0; y < cs->height; y++)
    memcpy (payload + (gsize) y * cs->width,
        cs->ramp + ((y + 4 * cs->seq) & 0xff), cs->width);

  switch (cs->framing) {
    case TF_FRAMING_HEADER:{
      gsize caps_len = cs->caps_sent ? 0 : strlen (cs->caps);

      start = payload - caps_len - TF_HEADER_SIZE;
      tf_header_write (start, caps_len, cs->payload_size, cs->seq, timestamp);
      memcpy (start + TF_HEADER_SIZE, cs->caps, caps_len);
      break;
    }
    case TF_FRAMING_LENGTH:
      start = payload - tf_length_format_width (cs->length_format);
      tf_length_write (cs->length_format, cs->payload_size, start);
      break;
    default:
      break;
  }
  *total = payload + cs->payload_size - start;
  return start;
}

static void
mark_broken (CamSim * cs, const GError * err)
{
  cs->broken = TRUE;
  g_free (cs->broken_msg);
  cs->broken_msg = g_strdup (err->message);
}

static gboolean
send_all (CamSim * cs, const guint8 * data, gsize len, gsize * sent)
{
  GError *err = NULL;

  *sent = 0;
  while (*sent < len) {
    gssize n = g_socket_send (cs->conn, (const gchar *) data + *sent,
        len - *sent, NULL, &err);

    if (n < 0) {
      mark_broken (cs, err);
      g_clear_error (&err);
      return FALSE;
    }
    *sent += n;
    cs->last_write_us = g_get_monotonic_time ();
  }
  return TRUE;
}

static void
drop_conn (CamSim * cs)
{
  if (cs->conn) {
    g_socket_close (cs->conn, NULL);
    g_clear_object (&cs->conn);
  }
  cs->broken = FALSE;
  g_clear_pointer (&cs->broken_msg, g_free);
  cs->ended_us = 0;
  cs->ended_by_rst = FALSE;
}

static gboolean
conn_gone (CamSim * cs)
{
  return cs->broken || cs->ended_us != 0;
}

/* SO_LINGER {1, 0} makes close() send an RST instead of a FIN, and leaves
 * no TIME_WAIT behind that would keep the source port busy. */
static void
abort_conn (CamSim * cs)
{
  struct linger lin = { 1, 0 };

  if (setsockopt (g_socket_get_fd (cs->conn), SOL_SOCKET, SO_LINGER, &lin,
          sizeof (lin)) < 0)
    g_printerr ("tf-camsim: warning: SO_LINGER: %s\n", g_strerror (errno));
  drop_conn (cs);
}

static GSocket *
try_connect (CamSim * cs, GInetAddress * addr, GSocketAddress * bind_addr,
    gint64 deadline, GError ** error)
{
  GSocket *sock;
  GSocketAddress *dest;
  gint64 left;
  gboolean ok;

  sock = g_socket_new (g_inet_address_get_family (addr), G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, error);
  if (sock == NULL)
    return NULL;
  /* allow_reuse sets SO_REUSEADDR, which is what lets a port whose last
   * connection was reset be bound again at once. */
  if (bind_addr && !g_socket_bind (sock, bind_addr, TRUE, error)) {
    g_object_unref (sock);
    return NULL;
  }
  /* A dead address would otherwise block for the kernel's SYN retries,
   * far past our own retry budget. */
  left = (deadline - g_get_monotonic_time ()) / G_USEC_PER_SEC;
  g_socket_set_timeout (sock, MAX (left, 1));
  dest = g_inet_socket_address_new (addr, cs->port);
  ok = g_socket_connect (sock, dest, NULL, error);
  g_object_unref (dest);
  if (!ok) {
    g_object_unref (sock);
    return NULL;
  }
  g_socket_set_timeout (sock, 0);
  /* Each frame goes out in one send; Nagle would only hold back its tail
   * until the previous frame is acknowledged. */
  g_socket_set_option (sock, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  return sock;
}

static gboolean
step_connect (CamSim * cs, gboolean same_port, GError ** error)
{
  GSocketAddress *bind_addr = NULL;
  GSocketAddress *local;
  GSocket *sock = NULL;
  GError *last_err = NULL;
  gint64 deadline = g_get_monotonic_time () + CONNECT_RETRY_USEC;
  gchar *stale_desc = NULL;
  gchar *from, *to;

  if (same_port) {
    /* A broken connection is already gone on the wire; only its fd holds
     * the port. */
    if (cs->conn && conn_gone (cs))
      drop_conn (cs);
    if (cs->conn) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
          "connect-same-port: the previous connection is still open");
      return FALSE;
    }
    bind_addr = g_inet_socket_address_new (cs->local_addr, cs->local_port);
  } else if (cs->conn && conn_gone (cs)) {
    drop_conn (cs);
  } else if (cs->conn) {
    /* Like a camera that rebooted: the old connection gets neither data
     * nor a FIN, the receiver has to notice on its own. */
    stale_desc = format_address (cs->local_addr, cs->local_port);
    g_ptr_array_add (cs->stale, g_steal_pointer (&cs->conn));
  }

  while (sock == NULL) {
    GList *l;

    for (l = cs->addresses; l != NULL && sock == NULL; l = l->next) {
      GInetAddress *addr = l->data;

      if (bind_addr && g_inet_address_get_family (addr) !=
          g_socket_address_get_family (bind_addr))
        continue;
      g_clear_error (&last_err);
      sock = try_connect (cs, addr, bind_addr, deadline, &last_err);
    }
    if (sock == NULL) {
      if (g_get_monotonic_time () + CONNECT_RETRY_INTERVAL_USEC > deadline)
        break;
      g_usleep (CONNECT_RETRY_INTERVAL_USEC);
    }
  }
  g_clear_object (&bind_addr);

  if (sock == NULL) {
    g_set_error (error, G_IO_ERROR, last_err ? last_err->code :
        G_IO_ERROR_FAILED, "cannot connect to %s port %u%s: %s", cs->host,
        cs->port, same_port ? " from the same source port" : "",
        last_err ? last_err->message : "no address of a usable family");
    g_clear_error (&last_err);
    g_free (stale_desc);
    return FALSE;
  }

  local = g_socket_get_local_address (sock, error);
  if (local == NULL) {
    g_object_unref (sock);
    g_free (stale_desc);
    return FALSE;
  }
  g_clear_object (&cs->local_addr);
  cs->local_addr = g_object_ref (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (local)));
  cs->local_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS
      (local));
  g_object_unref (local);

  cs->conn = sock;
  cs->seq = 0;
  cs->caps_sent = FALSE;
  cs->last_write_us = 0;

  from = format_address (cs->local_addr, cs->local_port);
  {
    GSocketAddress *remote = g_socket_get_remote_address (sock, NULL);

    to = remote ? format_address (g_inet_socket_address_get_address
        (G_INET_SOCKET_ADDRESS (remote)),
        g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (remote))) :
        g_strdup (cs->host);
    g_clear_object (&remote);
  }
  if (stale_desc)
    say (cs, "connected from %s to %s (left %s open and silent)", from, to,
        stale_desc);
  else
    say (cs, "connected from %s to %s", from, to);
  g_free (from);
  g_free (to);
  g_free (stale_desc);
  return TRUE;
}

static gboolean
conn_usable (CamSim * cs, const gchar * step)
{
  if (!cs->broken)
    return TRUE;
  say (cs, "%s: nothing sent, the connection already failed (%s)", step,
      cs->broken_msg);
  return FALSE;
}

static void
step_stream (CamSim * cs, guint64 n)
{
  gint64 t0 = g_get_monotonic_time ();
  guint64 i;

  if (!conn_usable (cs, "stream"))
    return;

  for (i = 0; i < n; i++) {
    const guint8 *frame;
    gsize total, sent;

    /* Each frame is due at a fixed offset from the start, so a late frame
     * does not push all the later ones back. */
    if (cs->fps > 0) {
      gint64 due = t0 + (gint64) (i * G_USEC_PER_SEC / cs->fps);
      gint64 now = g_get_monotonic_time ();

      if (due > now)
        g_usleep (due - now);
    }
    frame = build_frame (cs, &total);
    if (!send_all (cs, frame, total, &sent)) {
      say (cs, "write failed after %" G_GUINT64_FORMAT " frames "
          "(%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes of the next): %s",
          i, sent, total, cs->broken_msg);
      return;
    }
    cs->caps_sent = TRUE;
    cs->seq++;
  }
  say (cs, "sent %" G_GUINT64_FORMAT " frames in %.2f s", n,
      (g_get_monotonic_time () - t0) / (gdouble) G_USEC_PER_SEC);
}

static void
step_partial (CamSim * cs, guint64 bytes)
{
  const guint8 *frame;
  gsize total, sent;
  guint32 seq = cs->seq;

  if (!conn_usable (cs, "partial"))
    return;

  frame = build_frame (cs, &total);
  if (bytes > total)
    bytes = total;
  /* The frame counts as used even if cut short: the receiver must never see
   * its sequence number again on this connection. */
  cs->caps_sent = TRUE;
  cs->seq++;
  if (!send_all (cs, frame, bytes, &sent)) {
    say (cs, "write failed after %" G_GSIZE_FORMAT " of %" G_GUINT64_FORMAT
        " bytes of frame %u: %s", sent, bytes, seq, cs->broken_msg);
    return;
  }
  say (cs, "sent %" G_GUINT64_FORMAT " of %" G_GSIZE_FORMAT
      " bytes of frame %u", bytes, total, seq);
}

/* Waits until the receiver ends the connection or the deadline passes,
 * and records when and how it ended.  Returns TRUE if it ended. */
static gboolean
watch_conn (CamSim * cs, gint64 deadline)
{
  while (cs->ended_us == 0) {
    GError *err = NULL;
    gchar buf[4096];
    gint64 left = deadline - g_get_monotonic_time ();
    gssize n;

    if (left <= 0)
      break;
    if (!g_socket_condition_timed_wait (cs->conn, G_IO_IN, left, NULL, &err)) {
      g_clear_error (&err);
      continue;
    }
    n = g_socket_receive_with_blocking (cs->conn, buf, sizeof (buf), FALSE,
        NULL, &err);
    if (n > 0) {
      /* A receiver has nothing to say to a camera; whatever it is, it is
       * not the end of the connection. */
      continue;
    } else if (n == 0) {
      cs->ended_us = g_get_monotonic_time ();
    } else if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_clear_error (&err);
    } else {
      /* GIO reports ECONNRESET as CONNECTION_CLOSED. */
      cs->ended_us = g_get_monotonic_time ();
      cs->ended_by_rst = TRUE;
      if (!g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
        say (cs, "receive failed: %s", err->message);
      g_clear_error (&err);
    }
  }
  return cs->ended_us != 0;
}

static gchar *
describe_end (CamSim * cs)
{
  if (cs->last_write_us == 0)
    return g_strdup (cs->ended_by_rst ? "RST" : "FIN, not an RST");
  return g_strdup_printf ("%s, %" G_GINT64_FORMAT " ms after the last write",
      cs->ended_by_rst ? "RST" : "FIN, not an RST",
      (cs->ended_us - cs->last_write_us) / 1000);
}

static void
step_silent (CamSim * cs, guint64 ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;
  gint64 left;

  say (cs, "silent for %" G_GUINT64_FORMAT " ms", ms);
  /* Watching while silent times the receiver's timeout from the last write,
   * not from whenever a later wait-reset step starts. */
  if (cs->conn && !conn_gone (cs) && watch_conn (cs, deadline)) {
    gchar *how = describe_end (cs);

    say (cs, "the receiver ended the connection (%s)", how);
    g_free (how);
  }
  left = deadline - g_get_monotonic_time ();
  if (left > 0)
    g_usleep (left);
}

static void
step_wait_reset (CamSim * cs, guint64 ms)
{
  gint64 start = g_get_monotonic_time ();
  gchar *how;

  if (cs->broken) {
    say (cs, "reset after 0 ms (a write had already failed: %s)",
        cs->broken_msg);
    drop_conn (cs);
    return;
  }

  if (!watch_conn (cs, start + (gint64) ms * 1000)) {
    say (cs, "no reset within %" G_GUINT64_FORMAT " ms", ms);
    /* Leave as a crashed camera would, and keep the source port free of
     * TIME_WAIT for a following connect-same-port. */
    abort_conn (cs);
    return;
  }

  how = describe_end (cs);
  say (cs, "reset after %" G_GINT64_FORMAT " ms (%s)",
      MAX (cs->ended_us - start, 0) / 1000, how);
  g_free (how);
  drop_conn (cs);
}

static gboolean
run_script (CamSim * cs, GArray * steps, GError ** error)
{
  guint i;

  for (i = 0; i < steps->len; i++) {
    const Step *step = &g_array_index (steps, Step, i);

    switch (step->desc->kind) {
      case STEP_CONNECT:
      case STEP_CONNECT_SAME_PORT:
        if (!step_connect (cs, step->desc->kind == STEP_CONNECT_SAME_PORT,
                error))
          return FALSE;
        break;
      case STEP_STREAM:
        step_stream (cs, step->arg);
        break;
      case STEP_SILENT:
        step_silent (cs, step->arg);
        break;
      case STEP_WAIT_RESET:
        step_wait_reset (cs, step->arg);
        break;
      case STEP_CLOSE:
        drop_conn (cs);
        say (cs, "closed");
        break;
      case STEP_RESET:
        abort_conn (cs);
        say (cs, "reset");
        break;
      case STEP_PARTIAL:
        step_partial (cs, step->arg);
        break;
    }
  }
  return TRUE;
}

static gboolean
setup (CamSim * cs, const gchar * framing, const gchar * length_format,
    gint port, gint width, gint height, gint fps, GError ** error)
{
  GResolver *resolver;
  gint value;
  gsize caps_len;

  if (port <= 0 || port > 65535) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--port must be given, 1..65535");
    return FALSE;
  }
  cs->port = port;
  if (!parse_nick (framing_nicks, G_N_ELEMENTS (framing_nicks), "--framing",
          framing, &value, error))
    return FALSE;
  cs->framing = value;
  if (!parse_nick (length_format_nicks, G_N_ELEMENTS (length_format_nicks),
          "--length-format", length_format, &value, error))
    return FALSE;
  cs->length_format = value;
  if (width <= 0 || height <= 0 || fps < 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--width and --height must be positive, --fps at least 0");
    return FALSE;
  }
  cs->width = width;
  cs->height = height;
  cs->fps = fps;

  cs->payload_size = width * (gsize) height;
  if ((guint64) width * height > MAX_PAYLOAD_SIZE) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "a %dx%d frame is larger than 1 GiB", width, height);
    return FALSE;
  }
  if (cs->framing == TF_FRAMING_LENGTH
      && tf_length_format_width (cs->length_format) < 8
      && cs->payload_size >> (8 * tf_length_format_width (cs->length_format))) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "a %dx%d frame (%" G_GSIZE_FORMAT " bytes) does not fit a %s length",
        width, height, cs->payload_size, length_format);
    return FALSE;
  }

  cs->caps = g_strdup_printf ("video/x-raw,format=GRAY8,width=%d,height=%d,"
      "framerate=%d/1", width, height, fps);
  caps_len = strlen (cs->caps);
  cs->prefix_room = TF_HEADER_SIZE + caps_len + 8;
  cs->wire = g_malloc (cs->prefix_room + cs->payload_size);
  fill_ramp (cs);

  /* An IPv6 literal is often written in brackets, as in a URL. */
  if (cs->host[0] == '[' && g_str_has_suffix (cs->host, "]")) {
    gchar *bare = g_strndup (cs->host + 1, strlen (cs->host) - 2);

    g_free (cs->host);
    cs->host = bare;
  }
  resolver = g_resolver_get_default ();
  cs->addresses = g_resolver_lookup_by_name (resolver, cs->host, NULL, error);
  g_object_unref (resolver);
  if (cs->addresses == NULL) {
    g_prefix_error (error, "cannot resolve '%s': ", cs->host);
    return FALSE;
  }
  return TRUE;
}

static void
camsim_clear (CamSim * cs)
{
  drop_conn (cs);
  if (cs->stale)
    g_ptr_array_unref (cs->stale);
  g_resolver_free_addresses (cs->addresses);
  g_clear_object (&cs->local_addr);
  g_free (cs->host);
  g_free (cs->caps);
  g_free (cs->wire);
  g_free (cs->ramp);
}

int
main (int argc, char **argv)
{
  CamSim cs = { 0, };
  gchar *framing = NULL, *length_format = NULL, *script = NULL;
  gint port = 0, width = 320, height = 240, fps = 30;
  GOptionEntry entries[] = {
    {"host", 0, 0, G_OPTION_ARG_STRING, &cs.host,
        "Receiver address or host name (default 127.0.0.1)", "HOST"},
    {"port", 0, 0, G_OPTION_ARG_INT, &port, "Receiver port (required)", "N"},
    {"framing", 0, 0, G_OPTION_ARG_STRING, &framing,
        "header, raw or length (default header)", "F"},
    {"length-format", 0, 0, G_OPTION_ARG_STRING, &length_format,
        "Length prefix of the length framing: u16be, u16le, u32be, u32le, "
          "u64be or u64le (default u32be)", "FMT"},
    {"width", 0, 0, G_OPTION_ARG_INT, &width, "Frame width (default 320)",
        "W"},
    {"height", 0, 0, G_OPTION_ARG_INT, &height, "Frame height (default 240)",
        "H"},
    {"fps", 0, 0, G_OPTION_ARG_INT, &fps,
        "Frames per second, 0 for as fast as possible (default 30)", "N"},
    {"script", 0, 0, G_OPTION_ARG_STRING, &script,
        "Comma-separated steps: connect, connect-same-port, stream:N, "
          "silent:MS, wait-reset:MS, close, reset, partial:BYTES (default "
          DEFAULT_SCRIPT ")", "STEPS"},
    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &cs.quiet,
        "Print nothing but errors", NULL},
    {NULL}
  };
  GOptionContext *ctx;
  GError *error = NULL;
  GArray *steps = NULL;
  int ret = 1;

  /* GLib's messages (resolver errors, say) are UTF-8 and are converted to
   * the terminal's charset; without this that is plain ASCII. */
  setlocale (LC_ALL, "");
  /* A receiver that drops us must end up as a reported write error, not
   * kill the process. */
  signal (SIGPIPE, SIG_IGN);
  /* The demo and the tests read our lines as they come, through a pipe. */
  setvbuf (stdout, NULL, _IOLBF, 0);

  ctx = g_option_context_new ("- simulated camera for tcpframesrc");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    goto out;
  if (argc > 1) {
    g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
        "unexpected argument '%s'", argv[1]);
    goto out;
  }
  if (cs.host == NULL)
    cs.host = g_strdup ("127.0.0.1");
  steps = parse_script (script ? script : DEFAULT_SCRIPT, &error);
  if (steps == NULL)
    goto out;
  cs.stale = g_ptr_array_new_with_free_func (g_object_unref);
  if (!setup (&cs, framing ? framing : "header",
          length_format ? length_format : "u32be", port, width, height, fps,
          &error))
    goto out;

  if (run_script (&cs, steps, &error))
    ret = 0;

out:
  if (error) {
    g_printerr ("tf-camsim: %s\n", error->message);
    if (error->domain == G_OPTION_ERROR)
      g_printerr ("Run 'tf-camsim --help' for the options.\n");
    g_error_free (error);
  }
  if (steps)
    g_array_unref (steps);
  camsim_clear (&cs);
  g_option_context_free (ctx);
  g_free (framing);
  g_free (length_format);
  g_free (script);
  return ret;
}
