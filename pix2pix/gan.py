"""The composite model source -> G -> D, and the pix2pix training step it runs.

One call of `train_step` on a batch (source, target) is one iteration of the authors' training
loop, compiled into a single TensorFlow graph (train.py runs it through `distributed_step` in
pix2pix/distribute.py, on one device or several; on one, `train_on_batch` runs it too):

    1. G translates the source, once:  G(x)
    2. one update of D on  0.5 * (BCE(D(x, G(x)), 0) + BCE(D(x, y), 1))
    3. one update of G on  BCE(D(x, G(x)), 1) + lambda * mean|y - G(x)|,  through the updated D

which is the paper's objective  G* = arg min_G max_D  L_cGAN(G, D) + lambda * L_L1(G).
"""
import keras
import tensorflow as tf

LEARNING_RATE = 2e-4
BETA_1 = 0.5  # Adam's momentum, lowered from 0.9 for GAN training (Radford et al. 2015)
LAMBDA_L1 = 100.0  # weight of the L1 term


@keras.saving.register_keras_serializable(package="pix2pix")
class Adam(keras.optimizers.Adam):
    """Adam exactly as the authors' PyTorch optimizer computes it, in one pass over the weights.

    Both divide the bias-corrected first moment by a square root of the second moment plus
    epsilon, but PyTorch adds epsilon after correcting the second moment for its bias, Keras
    before: their updates differ wherever a gradient is near epsilon. Adding
    epsilon * sqrt(1 - beta_2^t) where Keras adds epsilon gives PyTorch's update exactly.
    TensorFlow's fused kernel then updates each weight and its two moments in a single pass,
    where Keras's own update takes a dozen (for 60 million weights, 18% of a 256x256 step's
    operations against 5%).
    """

    def __init__(self, learning_rate=LEARNING_RATE, beta_1=BETA_1, epsilon=1e-8, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, epsilon=epsilon, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1_power = tf.pow(tf.cast(self.beta_1, dtype), step)
        beta_2_power = tf.pow(tf.cast(self.beta_2, dtype), step)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=m.value.handle, v=v.value.handle, beta1_power=beta_1_power,
            beta2_power=beta_2_power, lr=tf.cast(learning_rate, dtype),
            beta1=tf.cast(self.beta_1, dtype), beta2=tf.cast(self.beta_2, dtype),
            epsilon=tf.cast(self.epsilon, dtype) * tf.sqrt(1 - beta_2_power),
            grad=tf.cast(gradient, dtype))


class Pix2Pix(keras.Model):
    """The composite model: source -> G -> D, whose outputs are D's decisions (logits) on the
    pair (source, G(source)) and the generated image. Its `train_step` trains both networks."""

    def __init__(self, g_model, d_model, image_shape, lambda_l1=LAMBDA_L1):
        source = keras.Input(shape=image_shape, name="source")
        generated = g_model(source)
        decision = d_model([source, generated])
        super().__init__(source, [decision, generated], name="gan")
        self.generator = g_model
        self.discriminator = d_model
        self.lambda_l1 = lambda_l1

    def compile(self, d_optimizer, g_optimizer):
        super().compile(optimizer=g_optimizer, jit_compile=False)  # XLA measured slower on CPU
        self.d_optimizer = d_optimizer
        # Their variables now rather than at the first update, which would trace the step twice.
        d_optimizer.build(self.discriminator.trainable_variables)
        g_optimizer.build(self.generator.trainable_variables)

    def train_step(self, data):
        source, target, _ = keras.utils.unpack_x_y_sample_weight(data)
        G, D = self.generator, self.discriminator
        # Under tf.distribute this replica holds 1/replicas of the batch and the optimizers sum
        # the replicas' gradients: each replica's count for its share of the batch's mean.
        share = tf.constant(1.0 / tf.distribute.get_replica_context().num_replicas_in_sync)
        with tf.GradientTape() as g_tape:
            # 1. G(x), once: both updates use it.
            generated = G(source, training=True)
            # 2. D learns to tell the real pair (1) from the generated one (0). Each pair goes
            #    through D in its own call, so each is normalized with its own statistics.
            with g_tape.stop_recording(), tf.GradientTape() as d_tape:
                d_fake = bce(D([source, generated], training=True), 0.0)
                d_real = bce(D([source, target], training=True), 1.0)
                d_loss = 0.5 * (d_fake + d_real)
            d_weights = D.trainable_variables
            self.d_optimizer.apply(d_tape.gradient(d_loss, d_weights, share), d_weights)
            # 3. G learns to make the updated D answer "real", and to stay near the target.
            g_gan = bce(D([source, generated], training=True), 1.0)
            g_l1 = keras.ops.mean(keras.ops.abs(target - generated))
            g_loss = g_gan + self.lambda_l1 * g_l1
        g_weights = G.trainable_variables
        self.optimizer.apply(g_tape.gradient(g_loss, g_weights, share), g_weights)
        return {"d_real": d_real, "d_fake": d_fake, "g_gan": g_gan, "g_l1": g_l1, "g": g_loss}


def bce(logits, label):
    """Binary cross-entropy of D's decisions (logits) against one label, mean over all patches."""
    labels = keras.ops.full_like(logits, label)
    return keras.ops.mean(keras.losses.binary_crossentropy(labels, logits, from_logits=True))


def define_gan(g_model, d_model, image_shape, lambda_l1=LAMBDA_L1):
    """The composite model that trains both networks, compiled with one Adam each."""
    model = Pix2Pix(g_model, d_model, image_shape, lambda_l1)
    model.compile(d_optimizer=Adam(), g_optimizer=Adam())
    return model
