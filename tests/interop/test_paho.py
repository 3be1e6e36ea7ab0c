"""paho-mqtt (2.x) against wasmqtt-broker, over TCP and WebSocket.

    python3 -m pytest tests/interop/test_paho.py      # or
    python3 -m unittest tests/interop/test_paho.py

The broker's addresses come from WASMQTT_BROKER_TCP (host:port) and
WASMQTT_BROKER_WS (ws://host:port/mqtt), set by scripts/interop-test.sh;
without them the module starts target/release/wasmqtt-broker itself on ports
the OS chooses.
"""

from __future__ import annotations

import os
import queue
import select
import subprocess
import sys
import threading
import time
import unittest
import uuid
from pathlib import Path
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

ROOT = Path(__file__).resolve().parents[2]
WAIT = 5.0  # seconds to wait for something that should happen

_broker: subprocess.Popen | None = None
ADDRESSES: dict[str, tuple[str, int, str]] = {}


def setUpModule() -> None:  # noqa: N802 (unittest's name)
    global _broker
    tcp = os.environ.get("WASMQTT_BROKER_TCP")
    ws = os.environ.get("WASMQTT_BROKER_WS")
    if not (tcp and ws):
        _broker = subprocess.Popen(
            [str(ROOT / "target/release/wasmqtt-broker"), "--tcp", "127.0.0.1:0",
             "--ws", "127.0.0.1:0", "--log", "warn"],
            stdout=subprocess.PIPE, text=True)
        line = read_line(_broker, 10.0)
        if not line.startswith("LISTENING"):
            raise RuntimeError(f"wasmqtt-broker did not start: {line!r}")
        fields = dict(f.split("=", 1) for f in line.split()[1:])
        tcp, ws = fields["tcp"], f"ws://{fields['ws']}/mqtt"
    host, port = tcp.rsplit(":", 1)
    ADDRESSES["tcp"] = (host, int(port), "")
    url = urlparse(ws)
    ADDRESSES["websockets"] = (url.hostname, url.port, url.path or "/mqtt")


def tearDownModule() -> None:  # noqa: N802
    if _broker is not None:
        stop(_broker, signal_first=True)


def read_line(proc: subprocess.Popen, seconds: float) -> str:
    """The next line of proc's stdout, or "" if none starts within seconds."""
    ready, _, _ = select.select([proc.stdout], [], [], seconds)
    return proc.stdout.readline() if ready else ""


def stop(proc: subprocess.Popen, signal_first: bool = False) -> None:
    """SIGTERM (if signal_first) then SIGKILL after WAIT seconds; every wait bounded."""
    if signal_first:
        proc.terminate()
        try:
            proc.wait(WAIT)
            return
        except subprocess.TimeoutExpired:
            pass
    proc.kill()
    proc.wait(WAIT)


def unique(name: str) -> str:
    return f"interop/paho/{name}/{uuid.uuid4()}"


def props(packet_type: int, **values) -> Properties:
    p = Properties(packet_type)
    for k, v in values.items():
        setattr(p, k, v)
    return p


class Paho:
    """A paho client on a background network loop, with blocking helpers."""

    def __init__(self, transport: str, version: int = mqtt.MQTTv5, client_id: str | None = None,
                 clean: bool = True, will: dict | None = None,
                 connect_properties: Properties | None = None, manual_ack: bool = False) -> None:
        self.version = version
        self.client_id = client_id or f"paho-{uuid.uuid4().hex[:8]}"
        kwargs = {}
        if version != mqtt.MQTTv5:
            kwargs["clean_session"] = clean
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                                  protocol=version, transport=transport,
                                  reconnect_on_failure=False, manual_ack=manual_ack, **kwargs)
        host, port, path = ADDRESSES[transport]
        if transport == "websockets":
            self.client.ws_set_options(path=path)
        if will:
            self.client.will_set(**will)
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._cond = threading.Condition()
        self._connack = None
        self._subacks: dict[int, list] = {}
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda _c, _u, msg: self.messages.put(msg)
        self.client.on_subscribe = self._on_subscribe
        connect_kwargs = {}
        if version == mqtt.MQTTv5:
            connect_kwargs["clean_start"] = clean
            connect_kwargs["properties"] = connect_properties
        self.client.connect(host, port, keepalive=30, **connect_kwargs)
        self.client.loop_start()
        with self._cond:
            if not self._cond.wait_for(lambda: self._connack is not None, WAIT):
                self.client.loop_stop()
                raise TimeoutError("no CONNACK")
        self.flags, self.reason_code, self.connack_properties = self._connack

    def _on_connect(self, _client, _userdata, flags, reason_code, properties) -> None:
        with self._cond:
            self._connack = (flags, reason_code, properties)
            self._cond.notify_all()

    def _on_subscribe(self, _client, _userdata, mid, reason_codes, _properties) -> None:
        with self._cond:
            self._subacks[mid] = reason_codes
            self._cond.notify_all()

    def subscribe(self, topic: str, qos: int | SubscribeOptions = 0,
                  properties: Properties | None = None) -> list:
        if self.version == mqtt.MQTTv5:
            options = qos if isinstance(qos, SubscribeOptions) else SubscribeOptions(qos=qos)
            rc, mid = self.client.subscribe(topic, options=options, properties=properties)
        else:
            rc, mid = self.client.subscribe(topic, qos)
        assert rc == mqtt.MQTT_ERR_SUCCESS, rc
        with self._cond:
            if not self._cond.wait_for(lambda: mid in self._subacks, WAIT):
                raise TimeoutError(f"no SUBACK for {topic}")
            return [int(getattr(c, "value", c)) for c in self._subacks.pop(mid)]

    def publish(self, topic: str, payload=b"", qos: int = 0, retain: bool = False,
                properties: Properties | None = None) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        info.wait_for_publish(WAIT)
        assert info.is_published(), f"publish to {topic} not acknowledged"

    def next(self, timeout: float = WAIT) -> mqtt.MQTTMessage:
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no message in time") from None

    def close(self) -> None:
        if self.client.is_connected():
            self.client.disconnect()
        self.client.loop_stop()


# A client with a will that the test kills with SIGKILL: the broker sees the
# socket close without DISCONNECT.
WILL_CHILD = r"""
import sys, threading, paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
transport, host, port, path, version, topic = sys.argv[1:7]
version = int(version)
c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="will-child-" + topic[-8:],
                protocol=version, transport=transport)
if transport == "websockets":
    c.ws_set_options(path=path)
p = None
if version == mqtt.MQTTv5:
    p = Properties(PacketTypes.WILLMESSAGE)
    p.UserProperty = [("who", "paho-child")]
    p.ContentType = "text/plain"
c.will_set(topic, b"paho died", qos=1, retain=False, properties=p)
ready = threading.Event()
c.on_connect = lambda *a: ready.set()
c.connect(host, int(port))
c.loop_start()
if ready.wait(10):
    print("READY", flush=True)
threading.Event().wait()
"""


class PahoCases:
    """Every case, run once per transport by the subclasses below."""

    transport = "tcp"

    def setUp(self) -> None:
        self.clients: list[Paho] = []

    def tearDown(self) -> None:
        for c in self.clients:
            c.close()

    def open(self, **kwargs) -> Paho:
        c = Paho(self.transport, **kwargs)
        self.clients.append(c)
        return c

    def test_connect_v5(self) -> None:
        c = self.open()
        self.assertEqual(c.reason_code, 0)
        self.assertFalse(c.flags.session_present)
        self.assertGreater(c.connack_properties.ReceiveMaximum, 0)

    def test_connect_v311_qos_0_1_2(self) -> None:
        t = unique("v311")
        sub = self.open(version=mqtt.MQTTv311)
        self.assertEqual(sub.reason_code, 0)
        pub = self.open(version=mqtt.MQTTv311)
        self.assertEqual(sub.subscribe(f"{t}/#", 2), [2])
        for qos in (0, 1, 2):
            pub.publish(f"{t}/{qos}", f"v311 {qos}".encode(), qos=qos)
            m = sub.next()
            self.assertEqual((m.topic, m.payload, m.qos), (f"{t}/{qos}", f"v311 {qos}".encode(), qos))

    def test_qos_0_1_2(self) -> None:
        t = unique("qos")
        sub = self.open()
        pub = self.open()
        self.assertEqual(sub.subscribe(f"{t}/#", 2), [2])
        for qos in (0, 1, 2):
            payload = bytes([qos, 0, 0xFF, 0x80])
            pub.publish(f"{t}/{qos}", payload, qos=qos)
            m = sub.next()
            self.assertEqual((m.topic, m.payload, m.qos, m.retain), (f"{t}/{qos}", payload, qos, False))

    def test_retained(self) -> None:
        t = unique("retained")
        pub = self.open()
        pub.publish(t, b"kept", qos=1, retain=True)
        late = self.open()
        late.subscribe(t, 1)
        m = late.next()
        self.assertEqual((m.payload, m.retain, m.qos), (b"kept", True, 1))
        pub.publish(t, b"", qos=1, retain=True)
        after = self.open(version=mqtt.MQTTv311)
        after.subscribe(t, 1)
        pub.publish(t, b"sentinel", qos=1)
        m = after.next()
        self.assertEqual((m.payload, m.retain), (b"sentinel", False))

    def _will(self, version: int) -> mqtt.MQTTMessage:
        t = unique("will")
        watcher = self.open()
        watcher.subscribe(t, 1)
        host, port, path = ADDRESSES[self.transport]
        child = subprocess.Popen(
            [sys.executable, "-c", WILL_CHILD, self.transport, host, str(port), path or "/",
             str(version), t],
            stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(read_line(child, 15.0).strip(), "READY")
            stop(child)
            m = watcher.next()
        finally:
            stop(child)
            child.stdout.close()
        self.assertEqual((m.topic, m.payload, m.qos), (t, b"paho died", 1))
        return m

    def test_will_v5_on_process_kill(self) -> None:
        m = self._will(mqtt.MQTTv5)
        self.assertEqual(m.properties.UserProperty, [("who", "paho-child")])
        self.assertEqual(m.properties.ContentType, "text/plain")

    def test_will_v311_on_process_kill(self) -> None:
        self._will(mqtt.MQTTv311)

    def test_user_properties_in_order(self) -> None:
        t = unique("userprops")
        sub = self.open()
        sub.subscribe(t, 1)
        pub = self.open()
        user = [("k", "1"), ("other", "x"), ("k", "2"), ("ключ", "значение ✓")]
        pub.publish(t, b"p", qos=1, properties=props(PacketTypes.PUBLISH, UserProperty=user))
        self.assertEqual(sub.next().properties.UserProperty, user)

    def test_request_response(self) -> None:
        t = unique("rr")
        responder = self.open()
        responder.subscribe(f"{t}/req", 1)
        requester = self.open()
        requester.subscribe(f"{t}/resp", 1)
        correlation = bytes([0, 1, 2, 0xFE, 0xFF])
        requester.publish(f"{t}/req", b"ping?", qos=1, properties=props(
            PacketTypes.PUBLISH, ResponseTopic=f"{t}/resp", CorrelationData=correlation))
        req = responder.next()
        self.assertEqual(req.properties.ResponseTopic, f"{t}/resp")
        self.assertEqual(req.properties.CorrelationData, correlation)
        responder.publish(req.properties.ResponseTopic, b"pong!", qos=1, properties=props(
            PacketTypes.PUBLISH, CorrelationData=req.properties.CorrelationData))
        resp = requester.next()
        self.assertEqual(resp.payload, b"pong!")
        self.assertEqual(resp.properties.CorrelationData, correlation)

    def test_subscription_identifiers(self) -> None:
        t = unique("subid")
        sub = self.open()
        sub.subscribe(f"{t}/#", 1, props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=3))
        sub.subscribe(f"{t}/+", 1, props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=1000))
        pub = self.open()
        pub.publish(f"{t}/a", b"both", qos=1)
        self.assertEqual(sorted(sub.next().properties.SubscriptionIdentifier), [3, 1000])
        pub.publish(f"{t}/a/b", b"one", qos=1)
        self.assertEqual(sub.next().properties.SubscriptionIdentifier, [3])

    def test_no_local(self) -> None:
        t = unique("nolocal")
        c = self.open()
        c.subscribe(t, SubscribeOptions(qos=1, noLocal=True))
        c.subscribe(f"{t}/echo", 1)
        c.publish(t, b"own", qos=1)
        c.publish(f"{t}/echo", b"echo", qos=1)
        self.assertEqual(c.next().payload, b"echo", "own message not sent back with No Local")

    def test_session_takeover_resumes_messages_in_flight(self) -> None:
        t = unique("resend")
        client_id = f"paho-resend-{uuid.uuid4().hex[:8]}"
        session = props(PacketTypes.CONNECT, SessionExpiryInterval=60)
        # manual_ack: paho withholds PUBACK (QoS 1) and PUBCOMP (QoS 2; it
        # sends PUBREC at once and delivers on PUBREL).
        first = self.open(client_id=client_id, connect_properties=session, manual_ack=True)
        first.subscribe(t, 2)
        pub = self.open()
        pub.publish(t, b"qos1", qos=1)
        pub.publish(t, b"qos2", qos=2)
        self.assertEqual([first.next().payload, first.next().payload], [b"qos1", b"qos2"])
        # The same client id again, resuming the session, takes it over: the
        # QoS 1 PUBLISH is sent again with DUP, the QoS 2 flow resumes at
        # PUBREL, so that message is not delivered twice [MQTT-4.4.0-1].
        again = self.open(client_id=client_id, clean=False, connect_properties=session)
        self.assertTrue(again.flags.session_present)
        m = again.next()
        self.assertEqual((m.payload, m.qos, m.dup), (b"qos1", 1, True))
        pub.publish(t, b"sentinel", qos=1)
        self.assertEqual(again.next().payload, b"sentinel")

    def test_message_expiry(self) -> None:
        t = unique("expiry")
        client_id = f"paho-exp-{uuid.uuid4().hex[:8]}"
        session = props(PacketTypes.CONNECT, SessionExpiryInterval=60)
        pub = self.open()
        pub.subscribe(f"{t}/offline", 1)
        # DISCONNECT 0x04 publishes the will once the broker has detached the
        # session, so what is published after it arrives is queued.
        first = self.open(client_id=client_id, clean=True, connect_properties=session,
                          will={"topic": f"{t}/offline", "payload": b"offline", "qos": 1})
        first.subscribe(t, 1)
        first.client.disconnect(mqtt.ReasonCode(PacketTypes.DISCONNECT, "Disconnect with will message"))
        self.assertEqual(pub.next().payload, b"offline")
        pub.publish(t, b"short", qos=1, properties=props(PacketTypes.PUBLISH, MessageExpiryInterval=1))
        pub.publish(t, b"long", qos=1, properties=props(PacketTypes.PUBLISH, MessageExpiryInterval=100))
        time.sleep(1.2)  # the feature under test: let the 1 s message expire
        again = self.open(client_id=client_id, clean=False, connect_properties=session)
        self.assertTrue(again.flags.session_present)
        m = again.next()
        self.assertEqual(m.payload, b"long", "expired queued message not delivered")
        self.assertTrue(97 <= m.properties.MessageExpiryInterval < 100, m.properties.MessageExpiryInterval)


class PahoTcp(PahoCases, unittest.TestCase):
    transport = "tcp"


class PahoWebSocket(PahoCases, unittest.TestCase):
    transport = "websockets"


if __name__ == "__main__":
    unittest.main()
