// Node-RED's runtime API as our adapters use it. @types/node-red covers most of it; these add the
// pieces it lacks (the three-argument input handler, close(removed, done), our config node).
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { OctoEverywhereClient } from '../../client';
import type { GadgetApiAccount } from './gadget-api-account';
import type { LiveFeed } from './live-feed';
import type { StatusPoller } from './poller';
import type { ConnectionUser } from './printer-connection';
import type { PrinterWebcams } from './webcam-state';

export type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow };

export type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type Done = (err?: Error) => void;
/** What node.status() takes: fill, shape and text. */
export type NodeStatus = Parameters<Node['status']>[0];

export interface AppConnectionCredentials {
  url?: string;
  authBasicHttpUser?: string;
  authBasicHttpPassword?: string;
  authBearerToken?: string;
  appApiToken?: string;
  octoPrintApiKey?: string;
}

export interface AppConnectionDef extends NodeDef {
  connectionId?: string;
  printerName?: string;
  printerLocalIp?: string;
  localUrl?: string;
  authType?: 'bearer' | 'basic';
  serviceUrl?: string;
  appId?: string;
  /**
   * Bambu Lab / Elegoo CC2: the printer's serial number, for its MQTT topics (live status). No API
   * returns it; not a secret, so a plain property (checked by parseSerialNumber).
   */
  serialNumber?: string;
}

/**
 * The config node as the other nodes see it: the one owner of what its printer's nodes share
 * (shared/printer-connection.ts). A user node registers on start and deregisters on close.
 */
export interface AppConnectionNode extends Node<AppConnectionCredentials> {
  readonly printerName: string;
  /** Who the printer is across instances and redeploys: the App Connection's ID, else this node's id (status memory key). */
  readonly printerKey: string;
  readonly appId: string;
  /** The shared client, or the configuration error that prevents one (thrown). */
  client(): OctoEverywhereClient;
  /** True when the connection has App API access (an App Connection, not a Shared Connection). */
  hasAppApi(): boolean;
  /** The printer's one status poller (made on first use, closed with the config node). */
  poller(): StatusPoller;
  /** The printer's one live socket feed (issue 16; closed with the config node). */
  live(): LiveFeed;
  /** The webcam list cache and 609 cool-down of the printer. */
  webcams(): PrinterWebcams;
  register(user: ConnectionUser): void;
  /** `work`: what the user still does with the shared client on close; the client stays open until it settles. */
  deregister(user: ConnectionUser, work?: Promise<unknown>): void;
  /** One notification webhook per App Connection: false when another node holds it. */
  claimWebhook(nodeId: string): boolean;
  releaseWebhook(nodeId: string): void;
}

export interface GadgetApiCredentials {
  apiKey?: string;
}

/** The Gadget API config node as the failure-detection nodes see it. */
export interface GadgetApiNode extends Node<GadgetApiCredentials> {
  /** The shared account (client, budget, stop state), or the configuration error that prevents one (thrown). */
  gadgetApi(): GadgetApiAccount;
  register(user: ConnectionUser): void;
  deregister(user: ConnectionUser): void;
}
