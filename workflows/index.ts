export { notificationWorkflow } from './notification';
