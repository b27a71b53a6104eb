/* tcpframe core: the enums shared by the core and the elements.
 *
 * This header is scanned by glib-mkenums in gst-plugin/, so every value's
 * nick (the lower-case tail of its name) is what users type on the
 * gst-launch command line and what shows in bus messages.  Renaming a
 * value is an interface change.
 */
#ifndef TF_TYPES_H
#define TF_TYPES_H

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  TF_FRAMING_HEADER,
  TF_FRAMING_RAW,
  TF_FRAMING_LENGTH,
  TF_FRAMING_JPEG,
} TfFraming;

typedef enum {
  TF_LENGTH_FORMAT_U16BE,
  TF_LENGTH_FORMAT_U16LE,
  TF_LENGTH_FORMAT_U32BE,
  TF_LENGTH_FORMAT_U32LE,
  TF_LENGTH_FORMAT_U64BE,
  TF_LENGTH_FORMAT_U64LE,
} TfLengthFormat;

typedef enum {
  TF_PEER_POLICY_REPLACE,
  TF_PEER_POLICY_REPLACE_ON_FRAME,
  TF_PEER_POLICY_KEEP,
} TfPeerPolicy;

/* Who opens the TCP connection: `server` listens for the other side,
 * `client` connects to it (and reconnects with backoff). */
typedef enum {
  TF_MODE_SERVER,
  TF_MODE_CLIENT,
} TfMode;

/* What the element is doing, as a camera user sees it. */
typedef enum {
  TF_STATUS_STOPPED,
  TF_STATUS_WAITING,            /* server: listening, no current peer */
  TF_STATUS_STREAMING,
  TF_STATUS_CONNECTING,         /* client: connecting, or waiting to retry */
} TfStatus;

/* Why a peer stopped being (or never became) the current one.  The nick is
 * the `reason` field of the disconnected/rejected bus messages. */
typedef enum {
  TF_REASON_NONE,
  TF_REASON_CLOSED,
  TF_REASON_RESET,
  TF_REASON_TIMEOUT,
  TF_REASON_REPLACED,
  TF_REASON_PROTOCOL_ERROR,
  TF_REASON_TOO_MANY_PENDING,
  TF_REASON_NOT_ALLOWED,
  TF_REASON_STOPPED,
  TF_REASON_SEND_TIMEOUT,       /* sink: a send stalled for send-timeout */
} TfReason;

G_END_DECLS

#endif /* TF_TYPES_H */
