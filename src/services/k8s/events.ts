/**
 * events.k8s.io/v1 Events about a ModelMonitor (what `kubectl describe modelmonitor` shows), for the
 * drift job and the operator alike.
 */
import { randomBytes } from 'node:crypto';
import { V1MicroTime, type EventsV1Event } from './client.ts';
import { API_GROUP, API_VERSION } from './spec.ts';

export interface MonitorEvent {
  namespace: string;
  /** The ModelMonitor's name and uid. */
  name: string;
  uid?: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  type: 'Normal' | 'Warning';
  note: string;
  now: Date;
}

export function monitorEvent(e: MonitorEvent): EventsV1Event {
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    // client-go's naming: <object>.<hex time> (a generateName ending in "." is not a valid prefix).
    metadata: { name: `${e.name.slice(0, 200)}.${e.now.getTime().toString(16)}${randomBytes(4).toString('hex')}`, namespace: e.namespace },
    // events.k8s.io/v1 refuses a plain Date here.
    eventTime: new V1MicroTime(e.now.getTime()),
    reportingController: e.reportingController,
    reportingInstance: e.reportingInstance.slice(0, 128),
    action: e.action,
    reason: e.reason,
    type: e.type,
    note: e.note.slice(0, 1024),
    regarding: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'ModelMonitor', name: e.name, namespace: e.namespace, ...(e.uid ? { uid: e.uid } : {}) },
  };
}
