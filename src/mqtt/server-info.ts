// What an MQTT 5.0 broker said about itself in its CONNACK (3.2.2.3): its limits, what it supports, and
// what it assigned. One object per session, filled again at each CONNACK. 3.1.1 brokers leave the defaults.
import { Property, fieldEnd, findProperty, readU32 } from "./properties";
import type { Packet } from "./codec";
import { readUtf8 } from "./utf8";

export class ServerInfo {
  /** QoS 1/2 publishes the broker takes unacknowledged at once (our in-flight window follows it). */
  receiveMaximum = 65535;
  /** Largest packet the broker accepts, bytes (0: no limit given). Bigger publishes are refused locally. */
  maximumPacketSize = 0;
  /** Topic aliases the broker accepts from us. */
  topicAliasMaximum = 0;
  /** Highest QoS the broker accepts in a PUBLISH. */
  maximumQoS = 2;
  retainAvailable = true;
  wildcardAvailable = true;
  subscriptionIdentifiersAvailable = true;
  sharedSubscriptionsAvailable = true;
  /** Seconds of keep alive the broker imposes (-1: ours stands). */
  serverKeepAlive = -1;
  /** The session expiry the broker applies (-1: the one we asked for). */
  sessionExpiryInterval = -1;
  /** The client identifier the broker gave us when we connected with an empty one. */
  assignedClientIdentifier: string | undefined = undefined;
  responseInformation: string | undefined = undefined;
  /** Another broker to use (CONNACK or DISCONNECT 0x9C Use another server / 0x9D Server moved). */
  serverReference: string | undefined = undefined;
  reasonString: string | undefined = undefined;
  authenticationMethod: string | undefined = undefined;

  /** Back to what a broker that says nothing means. */
  reset(): void {
    this.receiveMaximum = 65535;
    this.maximumPacketSize = this.topicAliasMaximum = 0;
    this.maximumQoS = 2;
    this.retainAvailable = this.wildcardAvailable = this.subscriptionIdentifiersAvailable = this.sharedSubscriptionsAvailable = true;
    this.serverKeepAlive = this.sessionExpiryInterval = -1;
    this.assignedClientIdentifier = this.responseInformation = this.serverReference = this.reasonString = this.authenticationMethod = undefined;
  }

  /** Reads a checked CONNACK's properties. */
  read(p: Packet): void {
    this.reset();
    const b = p.buf, s = p.propertiesStart, e = p.propertiesEnd;
    if (s === e) return;
    let o = findProperty(b, s, e, Property.ReceiveMaximum);
    if (o >= 0) this.receiveMaximum = (b[o] << 8) | b[o + 1];
    if ((o = findProperty(b, s, e, Property.MaximumPacketSize)) >= 0) this.maximumPacketSize = readU32(b, o);
    if ((o = findProperty(b, s, e, Property.TopicAliasMaximum)) >= 0) this.topicAliasMaximum = (b[o] << 8) | b[o + 1];
    if ((o = findProperty(b, s, e, Property.MaximumQoS)) >= 0) this.maximumQoS = b[o];
    if ((o = findProperty(b, s, e, Property.RetainAvailable)) >= 0) this.retainAvailable = b[o] === 1;
    if ((o = findProperty(b, s, e, Property.WildcardSubscriptionAvailable)) >= 0) this.wildcardAvailable = b[o] === 1;
    if ((o = findProperty(b, s, e, Property.SubscriptionIdentifierAvailable)) >= 0) this.subscriptionIdentifiersAvailable = b[o] === 1;
    if ((o = findProperty(b, s, e, Property.SharedSubscriptionAvailable)) >= 0) this.sharedSubscriptionsAvailable = b[o] === 1;
    if ((o = findProperty(b, s, e, Property.ServerKeepAlive)) >= 0) this.serverKeepAlive = (b[o] << 8) | b[o + 1];
    if ((o = findProperty(b, s, e, Property.SessionExpiryInterval)) >= 0) this.sessionExpiryInterval = readU32(b, o);
    this.assignedClientIdentifier = stringProperty(p, Property.AssignedClientIdentifier);
    this.responseInformation = stringProperty(p, Property.ResponseInformation);
    this.serverReference = stringProperty(p, Property.ServerReference);
    this.reasonString = stringProperty(p, Property.ReasonString);
    this.authenticationMethod = stringProperty(p, Property.AuthenticationMethod);
  }
}

/** The string property `id` of a checked packet `p`, or undefined (allocates: for rare packets). */
export function stringProperty(p: Packet, id: number): string | undefined {
  const o = findProperty(p.buf, p.propertiesStart, p.propertiesEnd, id);
  return o < 0 ? undefined : readUtf8(p.buf, o + 2, fieldEnd(p.buf, o));
}

/** The binary property `id` of a checked packet `p` as a copy, or undefined. */
export function binaryProperty(p: Packet, id: number): Uint8Array | undefined {
  const o = findProperty(p.buf, p.propertiesStart, p.propertiesEnd, id);
  return o < 0 ? undefined : p.buf.slice(o + 2, fieldEnd(p.buf, o));
}
