import { installTemporalRuntime } from '../../runtime/temporal';

try {
  // Tests make deliveries fail on purpose: the SDK's warning for each would bury real output.
  installTemporalRuntime('ERROR');
} catch {
  // Already installed in this worker process by an earlier test file.
}
