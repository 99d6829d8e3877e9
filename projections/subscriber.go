package projections

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/whitecross/whitecross/eventstore"
)

var _ message.Subscriber = (*Subscriber)(nil)

// The metadata keys of a message that carries an event. The message's
// UUID is the event's ID and its payload the event's data.
const (
	metaStream        = "stream"
	metaRevision      = "revision"
	metaPosition      = "position"
	metaType          = "type"
	metaSchemaVersion = "schema_version"
	metaRecordedAt    = "recorded_at"
	metaMetadata      = "metadata"
)

// SubscriberConfig tunes a Subscriber.
type SubscriberConfig struct {
	// From returns the position of the first event to deliver on topic,
	// for example a projection's checkpoint plus one. Required.
	From func(ctx context.Context, topic string) (uint64, error)
	// OnEnd, when set, hears that a topic's delivery ended because the
	// log's subscription failed or the log was closed. It is not called
	// when the subscribing context ends or the Subscriber is closed.
	OnEnd func(topic string, err error)
	// Selects, when set, says whether topic takes e. An event a topic
	// does not take gets no message: OnPass hears its position instead,
	// in order with the messages, once the previous message is acked.
	Selects func(topic string, e eventstore.Event) bool
	OnPass  func(topic string, position uint64)
}

// Subscriber is a Watermill subscriber over the event log. Each call of
// Subscribe delivers the log from its own position and turns each event
// into a message (EventOf turns it back), one at a time: the next message
// is sent only once the previous one is acked, and a nacked message is
// sent again, so that no event is ever skipped. The topic only names the
// subscription to From. The subscriptions share one subscription to the
// log for what it has just committed: a commit is read once, however many
// topics follow the log.
type Subscriber struct {
	cfg    SubscriberConfig
	shared *sharedFeed

	closing   chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup
}

// NewSubscriber returns a Subscriber over log.
func NewSubscriber(log eventstore.Store, cfg SubscriberConfig) (*Subscriber, error) {
	if cfg.From == nil {
		return nil, errors.New("projections: subscriber: From is required")
	}
	if cfg.OnEnd == nil {
		cfg.OnEnd = func(string, error) {}
	}
	if cfg.Selects == nil {
		cfg.Selects = func(string, eventstore.Event) bool { return true }
	}
	if cfg.OnPass == nil {
		cfg.OnPass = func(string, uint64) {}
	}
	return &Subscriber{cfg: cfg, shared: newSharedFeed(log), closing: make(chan struct{})}, nil
}

// Subscribe implements message.Subscriber. The channel is closed when
// ctx ends, when the Subscriber is closed, or when the log's
// subscription ends. When ctx has ended before the subscription starts,
// Subscribe returns a closed channel, not an error: a Watermill router
// stopped while it starts its handlers then stops every one at once,
// where an error would leave those not yet started holding up its close.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	select {
	case <-s.closing:
		return nil, fmt.Errorf("subscribe %s: %w", topic, eventstore.ErrClosed)
	default:
	}

	from, err := s.cfg.From(ctx, topic)
	if err != nil {
		return s.refused(ctx, topic, err)
	}
	sub, err := s.shared.subscribe(ctx, from)
	if err != nil {
		return s.refused(ctx, topic, err)
	}

	out := make(chan *message.Message)
	s.wg.Go(func() { s.deliver(ctx, topic, sub, out) })
	return out, nil
}

// refused answers a subscription to topic that could not start because
// of err: a closed channel when ctx has ended, the error otherwise.
func (s *Subscriber) refused(ctx context.Context, topic string, err error) (<-chan *message.Message, error) {
	if ctx.Err() != nil {
		ended := make(chan *message.Message)
		close(ended)
		return ended, nil
	}
	return nil, fmt.Errorf("subscribe %s: %w", topic, err)
}

// Close ends every subscription and waits until their channels are
// closed.
func (s *Subscriber) Close() error {
	s.closeOnce.Do(func() { close(s.closing) })
	s.wg.Wait()
	return nil
}

// deliver sends the subscription's events to out until ctx ends, the
// Subscriber closes or the subscription ends.
func (s *Subscriber) deliver(
	ctx context.Context,
	topic string,
	sub *eventstore.Subscription,
	out chan<- *message.Message,
) {
	defer close(out)
	defer sub.Close()

	for {
		select {
		case e, ok := <-sub.Events():
			if !ok {
				s.ended(ctx, topic, sub.Err())
				return
			}
			if !s.cfg.Selects(topic, e) {
				s.cfg.OnPass(topic, e.Position)
				continue
			}
			if !s.send(ctx, e, out) {
				return
			}
		case <-ctx.Done():
			return
		case <-s.closing:
			return
		}
	}
}

// ended reports a subscription that ended while its subscriber still
// wanted events.
func (s *Subscriber) ended(ctx context.Context, topic string, err error) {
	if ctx.Err() != nil {
		return
	}
	if err == nil {
		err = eventstore.ErrClosed
	}
	s.cfg.OnEnd(topic, err)
}

// send delivers e until it is acked, sending it again after each nack.
// It returns false when delivery must stop.
func (s *Subscriber) send(
	ctx context.Context,
	e eventstore.Event,
	out chan<- *message.Message,
) bool {
	for {
		acked, ok := s.sendOnce(ctx, e, out)
		if !ok {
			return false
		}
		if acked {
			return true
		}
		// A nack from a handler that is stopping is not a request to
		// deliver again.
		if ctx.Err() != nil {
			return false
		}
	}
}

// sendOnce delivers one message of e and waits for its ack or nack.
func (s *Subscriber) sendOnce(
	ctx context.Context,
	e eventstore.Event,
	out chan<- *message.Message,
) (acked, ok bool) {
	msgCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	msg := newMessage(e)
	msg.SetContext(msgCtx)

	select {
	case out <- msg:
	case <-ctx.Done():
		return false, false
	case <-s.closing:
		return false, false
	}

	select {
	case <-msg.Acked():
		return true, true
	case <-msg.Nacked():
		return false, true
	case <-ctx.Done():
		return false, false
	case <-s.closing:
		return false, false
	}
}

// newMessage returns the message that carries e.
func newMessage(e eventstore.Event) *message.Message {
	msg := message.NewMessage(e.ID.String(), e.Data)
	msg.Metadata = message.Metadata{
		metaStream:        e.Stream,
		metaRevision:      strconv.FormatUint(e.Revision, 10),
		metaPosition:      strconv.FormatUint(e.Position, 10),
		metaType:          e.Type,
		metaSchemaVersion: strconv.Itoa(e.SchemaVersion),
		metaRecordedAt:    e.RecordedAt.Format(time.RFC3339Nano),
		metaMetadata:      string(e.Metadata),
	}
	return msg
}

// EventOf returns the event a Subscriber's message carries: its envelope,
// metadata and data, but not its salt or hashes, which projections do not
// need. Data is nil when the event's payload has been destroyed.
func EventOf(msg *message.Message) (eventstore.Event, error) {
	id, err := uuid.Parse(msg.UUID)
	if err != nil {
		return eventstore.Event{}, fmt.Errorf("event of message: id: %w", err)
	}
	e := eventstore.Event{
		ID:       id,
		Stream:   msg.Metadata.Get(metaStream),
		Type:     msg.Metadata.Get(metaType),
		Metadata: []byte(msg.Metadata.Get(metaMetadata)),
	}
	if len(msg.Payload) > 0 {
		e.Data = msg.Payload
	}

	var errs [4]error
	e.Revision, errs[0] = strconv.ParseUint(msg.Metadata.Get(metaRevision), 10, 64)
	e.Position, errs[1] = strconv.ParseUint(msg.Metadata.Get(metaPosition), 10, 64)
	e.SchemaVersion, errs[2] = strconv.Atoi(msg.Metadata.Get(metaSchemaVersion))
	e.RecordedAt, errs[3] = time.Parse(time.RFC3339Nano, msg.Metadata.Get(metaRecordedAt))
	if err := errors.Join(errs[:]...); err != nil {
		return eventstore.Event{}, fmt.Errorf("event of message %s: %w", msg.UUID, err)
	}
	return e, nil
}
