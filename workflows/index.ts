export { notification, notificationWorkflow } from './notification';
export { broadcastWorkflow, broadcastChunkWorkflow } from './broadcast';
export { experimentWorkflow } from './experiment';
